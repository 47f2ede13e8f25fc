// Español (neutro, para América Latina y España). Las claves y los {parámetros} son los de
// en.js; la prueba de completitud (tests/web/i18n.test.mjs) lo comprueba.
export default {
  'lang.name': 'Español',
  'lang.dir': 'ltr',
  'lang.label': 'Idioma',
  'lang.changed': 'La página está ahora en español.',

  'page.title': 'Cribado de malaria en células',
  'page.description':
    'Analiza imágenes de frotis de sangre delgados (campos completos de microscopio o glóbulos rojos recortados) en busca de parásitos de la malaria, en este dispositivo y sin conexión. Solo para investigación y docencia.',
  'page.skip': 'Ir a los resultados',
  'page.tagline':
    'Campos de frotis delgado y glóbulos rojos, clasificados en este dispositivo. No se envía nada.',
  'embed.title': 'Cribado de malaria en células (integrado)',

  'notice.title': 'Solo para investigación y docencia.',
  'notice.before':
    'Esta es una ayuda para el cribado, no un diagnóstico ni un producto sanitario. Cada resultado, y sobre todo cada resultado',
  'notice.uncertain': 'incierto',
  'notice.after': ', debe ser revisado por un microscopista capacitado.',
  'notice.intendedUse':
    'Uso previsto: ayuda para el cribado, solo para investigación y docencia. No es un diagnóstico ni un producto sanitario. Cada resultado, y sobre todo cada resultado «incierto», debe ser revisado por un microscopista capacitado antes de cualquier decisión clínica.',

  'engine.loading': 'Cargando el modelo…',
  'engine.ready': 'Modelo listo · {variant}',
  'engine.scalar': 'escalar',
  'engine.failed': 'No se pudo cargar el modelo',
  'update.available': 'Hay una nueva versión de esta página.',
  'update.reload': 'Recargar para actualizar',
  'update.willReload': 'Se recargará al terminar el lote',

  'model.retry': 'Reintentar',
  'model.giveUp': 'Marcar como fallidas las imágenes en espera',
  'model.failed': 'No se pudo cargar el modelo: {reason}',
  'model.waiting': {
    one: '{n} imagen lo está esperando.',
    other: '{n} imágenes lo están esperando.',
  },
  'model.waitNone': 'Las imágenes añadidas mientras tanto lo esperan.',
  'model.markedFailed': {
    one: '{n} imagen en espera marcada como no clasificada.',
    other: '{n} imágenes en espera marcadas como no clasificadas.',
  },
  'model.loaded': 'El modelo está cargado.',
  'model.manifest':
    'no se pudo leer el manifiesto de recursos del sitio ({error}); ¿sin conexión antes de la primera visita, o el servidor está caído?',

  'input.heading': 'Añadir imágenes',
  'input.dropTitle': 'Suelte aquí imágenes o una carpeta',
  'input.dropSub':
    'PNG, JPEG, WebP o BMP: un campo completo de microscopio (se encuentra y cuenta cada glóbulo rojo) o una célula recortada por imagen.',
  'input.chooseImages': 'Elegir imágenes',
  'input.chooseFolder': 'Elegir una carpeta',
  'input.readAs': 'Leer las imágenes como',
  'input.dropFailed': 'No se pudieron leer los archivos soltados: {error}',
  'mode.auto': 'Automático (campo o célula)',
  'mode.cell': 'Células recortadas',
  'mode.field': 'Campos completos',
  'mode.cellName': 'célula recortada',
  'mode.fieldName': 'campo completo',

  'session.box': 'Sesión y lámina',
  'session.new': 'Nueva sesión',
  'session.list': 'Sesiones…',
  'session.operator': 'Operador (opcional)',
  'session.slide': 'ID de la lámina o del paciente',
  'session.slidePlaceholder': 'escriba o escanee, luego Intro',
  'session.none': 'Ninguna sesión',
  'session.of': 'Sesión del {date}',
  'session.legacy': 'Resultados anteriores (guardados antes de las sesiones, {date})',
  'session.started': '{session} iniciada: las imágenes que añada van a ella.',
  'session.reopened': {
    one: '{session} reabierta: {n} resultado{waiting}.',
    other: '{session} reabierta: {n} resultados{waiting}.',
  },
  'session.waiting': ', {n} en espera',
  'sessions.title': 'Sesiones en este dispositivo',
  'sessions.hint':
    'Cada sesión permanece en este dispositivo hasta que la elimine. Abra una para verla, revisarla, imprimirla o exportarla de nuevo.',
  'sessions.shown': '{session} (mostrada)',
  'sessions.images': { one: '{n} imagen', other: '{n} imágenes' },
  'sessions.slides': { one: '; lámina {list}', other: '; láminas {list}' },
  'sessions.operator': '; operador {name}',
  'sessions.lastChange': '; último cambio {date}',
  'sessions.open': 'Abrir',
  'sessions.openLabel': 'Abrir {session}',
  'sessions.delete': 'Eliminar',
  'sessions.deleteLabel': 'Eliminar {session}',
  'sessions.deleteConfirm': {
    one: '¿Eliminar {session} y su {n} resultado de este dispositivo?',
    other: '¿Eliminar {session} y sus {n} resultados de este dispositivo?',
  },
  'sessions.deleted': '{session} eliminada de este dispositivo.',
  'sessions.deleteAll': 'Eliminar todas las sesiones',
  'sessions.deleteAllConfirm':
    '¿Eliminar todas las sesiones de este dispositivo, con todos sus resultados e imágenes? No se puede deshacer.',
  'sessions.deletedAll':
    'Se eliminaron todas las sesiones, con sus resultados e imágenes, de este dispositivo; {session} está abierta.',
  'sessions.goneElsewhere': '{session} se eliminó en otra pestaña; se muestra {next}.',
  'sessions.allGoneElsewhere':
    'Se eliminaron todas las sesiones en otra pestaña; se muestra {next}.',
  'sessions.clearedElsewhere':
    '{session}: sus resultados se eliminaron en otra pestaña (Borrar resultados).',
  'sessions.unavailable':
    'El almacenamiento no está disponible en este dispositivo: no se guarda ninguna sesión, y los resultados mostrados se conservan solo en esta página (expórtelos antes de cerrarla).',
  'sessions.readFailed': 'No se pudieron leer las sesiones de este dispositivo ({error}).',
  'dialog.close': 'Cerrar',

  'slide.hintNone':
    'Las imágenes que añada no van a ninguna lámina. Una carpeta da una lámina por subcarpeta (su primer nivel de carpetas), con el nombre de la subcarpeta.',
  'slide.hintSet': 'Las imágenes que añada ahora van a la lámina {slide}.',
  'slide.set': 'Lámina {slide}: las imágenes que añada ahora van a ella.',
  'slide.none': 'Sin ID de lámina.',

  'camera.use': 'Usar la cámara del microscopio',
  'camera.heading': 'Cámara',
  'camera.hint':
    'Enfoque el campo y luego capture. La imagen completa se lee como un archivo; un campo de visión redondo (un teléfono en el ocular) y una luz desigual no son un problema.',
  'camera.capture': 'Capturar imagen',
  'camera.close': 'Cerrar la cámara',
  'camera.starting': 'Iniciando la cámara…',
  'camera.ready': 'Cámara lista. Capture una imagen del campo.',
  'camera.nth': 'Cámara {n}',
  'camera.denied':
    'Se denegó el acceso a la cámara. Permita la cámara para esta página en la configuración del sitio del navegador (el icono a la izquierda de la barra de direcciones) y vuelva a intentarlo.',
  'camera.notFound':
    'No se encontró ninguna cámara. Conecte la cámara del microscopio (USB) y vuelva a intentarlo.',
  'camera.inUse':
    'Otra aplicación está usando la cámara o no se pudo iniciar. Cierre la otra aplicación y vuelva a intentarlo.',
  'camera.failed': 'No se pudo iniciar la cámara ({error}).',
  'camera.unknownError': 'error desconocido',
  'camera.insecure':
    'La cámara necesita una página segura (https:// o http://localhost). Abra esta página por https, o use el selector de archivos.',
  'camera.unsupported': 'Este navegador no da acceso a la cámara. Use el selector de archivos.',
  'camera.waitPermission':
    'Esperando el permiso de la cámara: responda a la solicitud del navegador (cerca de la barra de direcciones). Si no ve ninguna solicitud, revise la configuración del sitio.',
  'camera.notRunning': 'La cámara no está en marcha.',
  'camera.captureFailed': 'No se pudo capturar una imagen.',
  'camera.live': {
    one: '{n} glóbulo rojo a la vista (encontrado en directo; clasificado al capturarlo)',
    other: '{n} glóbulos rojos a la vista (encontrados en directo; clasificados al capturarlos)',
  },
  'camera.liveNone':
    'No se encontraron glóbulos rojos: enfoque, o vaya a donde las células forman una sola capa.',

  'resume.resume': 'Reanudar',
  'resume.discard': 'Descartarlas',
  'resume.text': {
    one: '{n} imagen de un lote interrumpido aún no se ha clasificado.',
    other: '{n} imágenes de un lote interrumpido aún no se han clasificado.',
  },
  'resume.discarded': {
    one: '{n} imagen sin clasificar descartada.',
    other: '{n} imágenes sin clasificar descartadas.',
  },

  'batch.cancel': 'Cancelar',
  'batch.cancelling': 'Cancelando después de las imágenes en curso…',
  'batch.waitModelFailed':
    'Imágenes añadidas; esperan al modelo, que no se pudo cargar (Reintentar, arriba).',
  'batch.waitModel': 'Imágenes añadidas; se clasificarán cuando el modelo se haya cargado.',
  'batch.start': { one: 'Clasificando {n} imagen…', other: 'Clasificando {n} imágenes…' },
  'batch.progress': 'Clasificando {done} de {total}',
  'batch.quarter': '{done} de {total} imágenes clasificadas.',
  'batch.done': {
    one: 'Hecho: {ok} de {n} imagen clasificada',
    other: 'Hecho: {ok} de {n} imágenes clasificadas',
  },
  'batch.cancelled': {
    one: 'Cancelado: {ok} de {n} imagen clasificada',
    other: 'Cancelado: {ok} de {n} imágenes clasificadas',
  },
  'batch.notReadable': { one: ', {n} ilegible', other: ', {n} ilegibles' },
  'batch.refused': {
    one: ', {n} rechazada (no es una imagen de frotis de sangre ni una sola célula)',
    other: ', {n} rechazadas (no son imágenes de frotis de sangre ni una sola célula)',
  },
  'batch.notStarted': { one: ', {n} sin empezar', other: ', {n} sin empezar' },
  'batch.inAll':
    '. En total: {n} células, {parasitized} parasitadas, {uncertain} por revisar, {uninfected} no infectadas',
  'batch.fields':
    '; campos completos: {counted} glóbulos rojos contados, {parasitized} parasitados, {uncertain} por revisar',
  'batch.end': '.',

  'worker.dismiss': 'Cerrar',
  'worker.retriedWill': {
    one: '; la imagen que estaba leyendo se volverá a intentar',
    other: '; las {n} imágenes que estaba leyendo se volverán a intentar',
  },
  'worker.retriedWas': {
    one: '; la imagen que estaba leyendo se volvió a intentar',
    other: '; las {n} imágenes que estaba leyendo se volvieron a intentar',
  },
  'worker.rejected': {
    one: '; {n} imagen que lo detuvo dos veces marcada como fallida',
    other: '; {n} imágenes que lo detuvieron dos veces marcadas como fallidas',
  },
  'worker.lost': 'Un Worker del clasificador se detuvo ({reason}) y se está reiniciando{more}.',
  'worker.restarted': 'Un Worker del clasificador se detuvo ({reason}) y se reinició{more}.',
  'worker.stops': ' Los Workers se detuvieron {n} veces desde que se abrió la página.',
  'worker.unknown': 'motivo desconocido',
  'worker.cannotRestart':
    'No se pudo reiniciar un Worker del clasificador ({reason}); {n} siguen funcionando.',
  'worker.allFailed':
    '{reason}. Las imágenes restantes se marcan como no clasificadas; recargue la página para volver a intentarlo.',

  'results.heading': 'Resultados',
  'results.clear': 'Borrar resultados',
  'results.empty':
    'Todavía no hay imágenes en esta sesión. Añada imágenes arriba; los resultados aparecen aquí y permanecen en este dispositivo hasta que los borre o elimine la sesión.',
  'results.clearConfirm': {
    one: '¿Eliminar el {n} resultado de esta sesión de este dispositivo?',
    other: '¿Eliminar los {n} resultados de esta sesión de este dispositivo?',
  },
  'results.cleared':
    'Se eliminaron los resultados de esta sesión de este dispositivo; las demás sesiones se conservan (Sesiones…).',
  'results.clearFailed':
    'No se pudieron eliminar los resultados de este dispositivo ({error}): siguen guardados.',
  'export.cellsCsv': 'CSV de células',
  'export.slidesCsv': 'CSV de láminas',
  'export.json': 'JSON',
  'export.fhirTitle': 'Bundle HL7 FHIR R4: una Observation por lámina',
  'export.print': 'Imprimir informes por lámina',
  'export.printTitle': 'Una página A4 por lámina',

  'summary.label': 'Resumen',
  'summary.cropsTitle': 'Imágenes de células recortadas',
  'summary.classified': 'Células clasificadas: el total',
  'summary.uninfectedWord': 'no infectadas',
  'summary.toReview': 'Por revisar (en el total)',
  'summary.errors': 'Ilegibles o rechazadas',
  'summary.shareTitle': 'Proporción de parasitadas (intervalo de Wilson al 95 %)',
  'summary.shareDetail':
    'Parasitadas: {parasitized} de {classified} células clasificadas (las {uncertain} por revisar están entre las {classified}); intervalo de Wilson al 95 % de {lo} a {hi}',
  'summary.fieldsTitle': 'Campos completos',
  'summary.fieldsLabel': 'Resumen de los campos completos',
  'summary.fieldsCounted': {
    one: 'Glóbulos rojos contados en {n} campo',
    other: 'Glóbulos rojos contados en {n} campos',
  },
  'summary.pooled': 'Parasitemia global: {text}; excluidos: {excluded}',
  'summary.apart':
    'Las células recortadas y los campos completos se resumen por separado: las células recortadas las eligió alguien, así que solo las células contadas en campos completos dan una parasitemia.',
  'stats.percent': '{x} %',
  'stats.noCells': 'ningún glóbulo rojo contado',
  'stats.parasitemia': {
    one: '{p} % (IC 95 % {lo}–{hi} %) de {n} célula',
    other: '{p} % (IC 95 % {lo}–{hi} %) de {n} células',
  },

  'band.confidentUninfected': 'Fiable: no infectada',
  'band.confidentParasitized': 'Fiable: parasitada',
  'band.inBand': 'En la zona de incertidumbre: por revisar',
  'band.above': 'Fiable: p por encima de {hi}, el límite superior de la zona de incertidumbre',
  'band.atOrBelow':
    'Fiable: p igual o inferior a {lo}, el límite inferior de la zona de incertidumbre',
  'band.inRange': 'En la zona de incertidumbre ({lo}–{hi}): por revisar, sin clasificación',
  'band.note':
    'Una célula queda «por revisar» cuando la probabilidad de estar parasitada según el modelo cae en su zona de incertidumbre, por encima de {lo} y hasta {hi}, donde sus clasificaciones no son lo bastante fiables{err}: sigue en el total y no es parasitada ni no infectada hasta que un microscopista la clasifique.',
  'band.noteError':
    ' (fuera de ella, el {pct} de las clasificaciones de células de prueba reservadas fueron erróneas)',

  'slides.heading': 'Por lámina',
  'slides.slide': 'Lámina',
  'slides.from': 'Origen',
  'slides.cells': 'Células contadas',
  'slides.toReview': 'Por revisar',
  'slides.share': 'Parasitemia o proporción (intervalo de Wilson al 95 %), denominador',
  'slides.leftOut': 'Excluidas',
  'slides.afterReview': 'Tras su revisión',
  'slides.notRead': 'No leídas',
  'slides.noId': '(sin ID)',
  'slides.fromFields': { one: '{n} campo completo', other: '{n} campos completos' },
  'slides.fromCrops': { one: '{n} célula recortada', other: '{n} células recortadas' },
  'slides.reviewed': '{n} revisadas: {parasitized} parasitadas, {uncertain} por revisar; {share}',
  'slides.imagesOf': { one: '{slide} ({n} imagen)', other: '{slide} ({n} imágenes)' },
  'slides.split': {
    one: 'La carpeta {folder} dio {n} lámina, una por subcarpeta: {list}.',
    other: 'La carpeta {folder} dio {n} láminas, una por subcarpeta: {list}.',
  },
  'slides.folders': {
    one: 'Carpeta como lámina: {list}.',
    other: 'Carpetas como láminas: {list}.',
  },

  'filter.label': 'Mostrar',
  'filter.all': 'Todas las imágenes',
  'filter.uncertain': 'Por revisar (inciertas)',
  'sort.label': 'Ordenar por',
  'sort.order': 'Orden de entrada',
  'sort.pDesc': 'Probabilidad, la más alta primero',
  'sort.pAsc': 'Probabilidad, la más baja primero',
  'sort.name': 'Nombre de archivo',
  'heat.all': 'Mapas de calor en todas las células recortadas no clasificadas como no infectadas',
  'heat.lowers': 'taparla baja P(parasitada)',
  'heat.raises': 'la sube',
  'heat.button': 'Mapa de calor',
  'heat.label': 'Mapa de calor de {name}',
  'heat.computing': 'Mapa de calor: calculando…',
  'heat.failed': 'Mapa de calor no disponible: {error}',

  'call.parasitized': 'Parasitada',
  'call.uninfected': 'No infectada',
  'call.uncertain': 'Incierta: derivar a un microscopista',
  'count.parasitized': 'Parasitadas',
  'count.uninfected': 'No infectadas',
  'word.parasitized': 'parasitada',
  'word.uninfected': 'no infectada',
  'word.toReview': 'por revisar',
  'word.leftOut': 'excluida',
  'word.none': 'ninguna',
  'word.share': 'proporción',
  'word.parasitemia': 'parasitemia',
  'excluded.border': { one: '{n} cortada por el borde', other: '{n} cortadas por el borde' },
  'excluded.white': { one: '{n} glóbulo blanco', other: '{n} glóbulos blancos' },
  'excluded.debris': { one: '{n} resto o plaqueta', other: '{n} restos o plaquetas' },
  'excluded.clump': { one: '{n} cúmulo no separado', other: '{n} cúmulos no separados' },

  'alt.notReadable': '{name}: ilegible',
  'alt.pending': '{name}: aún sin clasificar',
  'alt.cell': '{call}, probabilidad de estar parasitada {p}: {name}',
  'card.slide': 'Lámina {slide}',
  'card.notAnalysed': 'No analizada',
  'card.notReadable': 'Ilegible',
  'card.waitingModel': 'Esperando al modelo',
  'card.waiting': 'En espera',
  'card.modelFailed': 'No se pudo cargar el modelo: reinténtelo arriba.',
  'card.gaveUp': 'sin clasificar: no se pudo cargar el modelo ({reason})',
  'card.prob': 'P(parasitada) = {p}',
  'card.readAs': 'Leída como {mode}',
  'card.readAsAuto': 'Leída como {mode} (automático)',
  'card.triedAs': 'Intentada como {mode}',
  'card.rereadField': 'Leer como campo',
  'card.rereadCell': 'Leer como célula',
  'card.rereadLabel': '{button} de nuevo: {name}, como {mode}',
  'card.rereading': 'Volviendo a leer {name} como {mode}…',
  'error.lead': '{kind}. Mensaje del clasificador (en inglés):',
  'error.kindStopped': 'Esta imagen detuvo el clasificador dos veces',
  'error.kindNotSmear': 'No es una imagen de frotis de sangre',
  'error.kindNotCell': 'No es un único glóbulo rojo recortado',
  'error.kindGreyscale':
    'Imagen en escala de grises: el modelo necesita una imagen en color (tinción de Giemsa)',
  'error.kindTooLarge': 'Demasiado grande para el clasificador',
  'error.kindEmpty': 'Vacía o demasiado pequeña',
  'error.kindCorrupt': 'Archivo dañado o incompleto',
  'error.kindUnsupported': 'No es una imagen admitida (PNG, JPEG, BMP o WebP)',
  'error.kindMemory': 'Memoria insuficiente en este dispositivo',
  'error.kindOther': 'No se pudo clasificar',

  'review.cellOf': 'la célula {index} de {name}',
  'review.groupLabel': 'Su clasificación de {what}',
  'review.yourCall': 'Su clasificación:',
  'review.reviewed': 'Revisada: {call}',
  'review.confirmed': 'Revisada: {call} (confirmada)',
  'review.overturned': 'Revisada: {call} (corregida)',
  'review.callLabel': 'Clasificar {what}: {call}',
  'review.undoLabel': 'Deshacer su clasificación de {what}: {call}',
  'review.keys': '{key}; C confirma la clasificación del modelo, Supr deshace',
  'review.announce': '{who}: su clasificación, {call}.',
  'review.announceUndo': '{who}: su clasificación se deshizo.',
  'review.noneYet': 'ninguna célula revisada todavía',
  'review.fieldText': {
    one: '{n} célula revisada: {parasitized} parasitadas, {uncertain} por revisar; parasitemia {parasitemia}',
    other:
      '{n} células revisadas: {parasitized} parasitadas, {uncertain} por revisar; parasitemia {parasitemia}',
  },
  'review.after': {
    one: 'Tras su revisión ({n} célula revisada): {parasitized} parasitadas, {uncertain} por revisar, {uninfected} no infectadas; {what} {value}. Según el modelo: {modelParasitized} parasitadas, {modelUncertain} por revisar.',
    other:
      'Tras su revisión ({n} células revisadas): {parasitized} parasitadas, {uncertain} por revisar, {uninfected} no infectadas; {what} {value}. Según el modelo: {modelParasitized} parasitadas, {modelUncertain} por revisar.',
  },

  'cell.title': 'Célula {index}',
  'cell.text': 'Célula {index}: {call}, P(parasitada) {p}',
  'cell.cropLabel': 'Célula {index}, recortada por su contorno',
  'cell.box': 'Recuadro {w}×{h} px en {x}, {y}',
  'field.overlayLabel': 'Glóbulos rojos de {name}: las flechas pasan de una célula a otra',
  'field.alt':
    '{name}: campo completo, {counted} glóbulos rojos contados, {parasitized} parasitados, {uncertain} por revisar',
  'field.counted': 'Glóbulos rojos contados',
  'field.uncertainRow': 'Por revisar (inciertos, en el total)',
  'field.parasitemia': 'Parasitemia',
  'field.afterReview': 'Tras la revisión',
  'field.hintCells':
    'Haga clic o toque una célula para verla; con el teclado, Intro en esta tarjeta y luego las flechas.',
  'field.noCells': 'No se contó ningún glóbulo rojo en esta imagen.',
  'field.whole': 'Campo completo',
  'field.headSlide': '{name} · lámina {slide}',

  'save.full':
    'El almacenamiento de este dispositivo está lleno: no se pudo guardar {what}. Exporte las sesiones que necesite y luego elimine las más antiguas (Sesiones…) para hacer sitio.',
  'save.failed': 'No se pudo guardar {what}: {error}',
  'save.whatResult': 'el resultado de {name}',
  'save.whatResults': {
    one: 'el resultado de {n} imagen ({name}, …)',
    other: 'los resultados de {n} imágenes ({name}, …)',
  },
  'save.whatReview': 'la revisión de {name}',
  'save.whatSession': 'la sesión',
  'save.whatNewSession': 'una nueva sesión',
  'save.whatImages': { one: 'la imagen añadida', other: 'las {n} imágenes añadidas' },
  'unsaved.text': {
    one: '{why} La imagen añadida se clasifica de todos modos, pero solo se conserva en esta página: exporte los resultados antes de cerrarla.',
    other:
      '{why} Las {n} imágenes añadidas se clasifican de todos modos, pero solo se conservan en esta página: exporte los resultados antes de cerrarla.',
  },
  'storage.unavailable': 'El almacenamiento no está disponible en este dispositivo.',
  'storage.info': 'Guardado en este dispositivo: {used} MB de {quota} GB.',
  'storage.infoPersistent': 'Guardado en este dispositivo: {used} MB de {quota} GB (persistente).',
  'store.unavailable':
    'Los resultados no se pueden conservar en este dispositivo (IndexedDB no disponible: {error}).',
  'footer.local':
    'Funciona por completo en este navegador: las imágenes nunca salen del dispositivo.',
  'footer.version': 'Versión del sitio {version}; modelo {model}.',

  'report.kind': 'Informe de cribado de malaria (solo para investigación y docencia)',
  'report.noId': '(sin ID)',
  'report.session': 'Sesión',
  'report.printed': 'Impreso',
  'report.operator': 'Operador',
  'report.model': 'Modelo',
  'report.modelVersion': '{name} versión {version}',
  'report.modelLine': '{model}{arch}; versión del sitio {site}',
  'report.digest': 'sha256 del archivo del modelo',
  'report.band': 'Zona de incertidumbre',
  'report.bandValue': '{lo} < p ≤ {hi}: células por revisar, en el total',
  'report.share': 'Parasitemia o proporción (intervalo de Wilson al 95 %)',
  'report.fromFields': {
    one: '{n} campo completo (modelo)',
    other: '{n} campos completos (modelo)',
  },
  'report.fromCrops': {
    one: '{n} célula recortada (modelo)',
    other: '{n} células recortadas (modelo)',
  },
  'report.afterReview': 'tras la revisión ({n} revisadas)',
  'report.toReview': 'Células por revisar',
  'report.parasitized': 'Células parasitadas',
  'report.group': '{title} ({n})',
  'report.firstShown': '{title} ({n}): se muestran las {max} primeras',
  'report.thumbCell': '{name}, célula {index}',
  'report.thumb': '{what}: p {p}',
  'report.thumbReviewed': '{what}: p {p}, revisada',
  'report.legend':
    'Bajo cada miniatura: la probabilidad de estar parasitada según el modelo; ✓: revisada por el técnico.',
  'report.ready': {
    one: 'Informe por lámina listo: {n} página, una por lámina.',
    other: 'Informe por lámina listo: {n} páginas, una por lámina.',
  },

  'modelcard.button': 'Ficha del modelo',
  'mc.does': 'Qué hace',
  'mc.doesText':
    'Para cada glóbulo rojo da la probabilidad de que la célula esté parasitada (Plasmodium, en un frotis delgado teñido con Giemsa). Las imágenes de campos completos se recortan primero en glóbulos rojos; los glóbulos blancos, los restos, los cúmulos y las células cortadas por el borde se excluyen y se cuentan aparte.',
  'mc.trained': 'Entrenado con',
  'mc.split':
    '; partición {split}, de modo que ninguna lámina está en más de uno de los conjuntos de entrenamiento, validación y prueba',
  'mc.allSlides':
    '; este modelo final aprendió de todas ellas. Sus cifras a continuación son las de la misma receta entrenada solo con las láminas de entrenamiento (partición {split}) y medida en las láminas de prueba reservadas',
  'mc.accuracy': 'Exactitud medida',
  'mc.accuracyText':
    'En {n} células recortadas de láminas de prueba reservadas: el {acc} de las clasificaciones fueron correctas',
  'mc.sensitivity': '; se encontró el {x} de las células parasitadas (sensibilidad)',
  'mc.specificity':
    '; el {x} de las células no infectadas se clasificaron como no infectadas (especificidad)',
  'mc.uncertain':
    ' El {x} de esas células cayó en la zona de incertidumbre (p por encima de {lo} y hasta {hi}) y quedan «por revisar»',
  'mc.errorOutside': '; de las demás, el {x} se clasificó mal',
  'mc.input': 'Entrada',
  'mc.inputText': 'Cada célula se redimensiona a {s} x {s} píxeles para la red',
  'mc.inputSlower':
    ' ({k} veces los píxeles de un modelo de 64 x 64: cuente con que sea más o menos esas veces más lento)',
  'mc.classes': 'Clases',
  'mc.positive': '; «{pos}» es la clase parasitada, cualquier otra clase cuenta como no parasitada',
  'mc.limits': 'Limitaciones',
  'mc.limitsText':
    'Las cifras anteriores provienen de células recortadas del conjunto de datos público con el que se entrenó (un solo hospital, fotografías de teléfono móvil, P. falciparum). En campos completos de otro centro y otro microscopio (docs/FIELD.md) clasificó como parasitadas cerca del 1 % de las células no infectadas y puso cerca de un tercio de las células en la zona de incertidumbre. No se ha validado para otros microscopios, tinciones o especies de Plasmodium, y no distingue especies ni estadios. Es una ayuda para el cribado en investigación y docencia, no un diagnóstico ni un producto sanitario: un microscopista revisa cada resultado, sobre todo las células por revisar.',
  'mc.engine': 'motor',
  'mc.engineValue': {
    one: '{variant}, {n} worker, en este dispositivo',
    other: '{variant}, {n} workers, en este dispositivo',
  },
  'mc.noSimd': 'WebAssembly (sin SIMD)',
  'mc.readFrom': 'modelo leído de',
  'mc.localCopy': 'copia local (este navegador, verificada)',
  'mc.sha': 'sha256 del modelo',
  'mc.thisCopy': 'Esta copia',
  'mc.raw': 'Metadatos técnicos (tal como se guardan en el archivo del modelo)',

  'export.meta':
    '# exportación de malaria-screen. {notice} Modelo: {model}; sha256 del archivo: {digest}; {band} (p = probabilidad de estar parasitada; las células dentro de la zona están por revisar); {operator}{session}exportado: {exported}.',
  'export.unknown': 'desconocido',
  'export.operator': 'operador: {name}; ',
  'export.session': 'sesión: {session}; ',
  'export.band': 'zona de incertidumbre {lo} < p <= {hi}',
  'export.bandUnknown': 'zona de incertidumbre desconocida',

  'widget.drop': 'Suelte aquí un campo o la imagen de una célula, o',
  'widget.choose': 'Elegir una imagen',
  'widget.notice':
    'Ayuda para el cribado solo para investigación y docencia, no un diagnóstico. Los resultados inciertos deben ser revisados por un microscopista.',
  'widget.loading': 'Cargando el modelo…',
  'widget.ready': 'Listo.',
  'widget.classifying': 'Clasificando {name}…',
  'widget.inBand': 'En la zona de incertidumbre: por revisar, sin clasificación',
  'widget.statusCell': '{name}: {call}, P(parasitada) {p}.',
  'widget.counts':
    '{counted} glóbulos rojos contados, {parasitized} parasitados, {uncertain} por revisar',
  'widget.fieldAlt': 'Campo completo: {counts}: {name}',
  'widget.parasitemia': 'Parasitemia {text}',
  'widget.statusField': '{name}: campo completo, {counts}.',
  'widget.heatComputing': 'Calculando el mapa de calor…',
  'widget.heatDrawn': '{name}: mapa de calor dibujado (donde tapar la célula baja P(parasitada)).',
  'grid.help':
    'Los resultados son una sola parada de la tecla Tab: las flechas pasan de una tarjeta a otra, Inicio y Fin van a la primera y a la última, Intro entra en una tarjeta y Esc vuelve a salir; P, U, C y Supr revisan la tarjeta con el foco.',
  'net.offlineStored':
    'Sin conexión: esta página y su modelo están guardados en este dispositivo, así que el cribado continúa sin red.',
  'net.offlineNotStored':
    'Sin conexión: el cribado continúa mientras esta página siga abierta, pero todavía no está guardada para usarla sin conexión: no la recargue hasta que vuelva la red.',
  'model.download': 'Descarga del modelo',
  'model.downloading': 'Descargando el modelo: {loaded} de {total} MB',
  'model.downloadingSoFar': 'Descargando el modelo: {loaded} MB',
  'model.downloaded': 'Modelo descargado: {n} bytes.',
  'model.fromCopy':
    'Modelo leído de la copia de este dispositivo ({n} bytes): no se descargó nada.',
  'notices.label': 'Avisos',
  'input.dropTitleTouch': 'Fotografíe un campo o elija imágenes',
  'input.paste': ' También puede pegar una imagen (Ctrl+V).',
  'embed.refused':
    'Este clasificador no responde a páginas de {origin}: ese origen no está en allowedOrigins del embed-config.json del sitio de cribado (web/serve.mjs: --allow-embed ORIGEN).',
  'embed.opaque':
    'Este clasificador no funciona aquí: su marco no tiene un origen propio (un iframe con sandbox sin allow-same-origin, o una página abierta desde un archivo), así que no puede saber qué páginas pueden usarlo. Intégrelo desde la dirección https:// del sitio de cribado, y póngalo en sandbox solo con allow-same-origin.',
  'widget.dropTouch': 'Una foto de un campo o de una célula:',
  'widget.file': 'Archivo: {name}',
  'report.landmark': 'Informes por lámina',
};
