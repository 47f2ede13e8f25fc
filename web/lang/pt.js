// Português (norma europeia e africana, Acordo Ortográfico de 1990: Moçambique, Angola,
// Guiné-Bissau; compreensível no Brasil). As chaves e os {parâmetros} são os de en.js; o teste
// de completude (tests/web/i18n.test.mjs) verifica-o.
export default {
  'lang.name': 'Português',
  'lang.dir': 'ltr',
  'lang.label': 'Idioma',
  'lang.changed': 'A página está agora em português.',

  'page.title': 'Rastreio de malária em células',
  'page.description':
    'Analisa imagens de esfregaços sanguíneos finos (campos inteiros de microscópio ou glóbulos vermelhos recortados) à procura de parasitas da malária, neste dispositivo, sem ligação à Internet. Apenas para investigação e ensino.',
  'page.skip': 'Ir para os resultados',
  'page.tagline':
    'Campos de esfregaço fino e glóbulos vermelhos, classificados neste dispositivo. Nada é enviado.',
  'embed.title': 'Rastreio de malária em células (incorporado)',

  'notice.title': 'Apenas para investigação e ensino.',
  'notice.before':
    'Isto é um auxílio ao rastreio, não um diagnóstico nem um dispositivo médico. Cada resultado, e sobretudo cada resultado',
  'notice.uncertain': 'incerto',
  'notice.after': ', tem de ser revisto por um microscopista qualificado.',
  'notice.intendedUse':
    'Utilização prevista: auxílio ao rastreio, apenas para investigação e ensino. Não é um diagnóstico nem um dispositivo médico. Cada resultado, e sobretudo cada resultado "incerto", tem de ser revisto por um microscopista qualificado antes de qualquer decisão clínica.',

  'engine.loading': 'A carregar o modelo…',
  'engine.ready': 'Modelo pronto · {variant}',
  'engine.scalar': 'escalar',
  'engine.failed': 'O modelo não carregou',
  'update.available': 'Está disponível uma nova versão desta página.',
  'update.reload': 'Recarregar para atualizar',
  'update.willReload': 'Recarrega quando o lote terminar',

  'model.retry': 'Tentar de novo',
  'model.giveUp': 'Marcar as imagens em espera como falhadas',
  'model.failed': 'Não foi possível carregar o modelo: {reason}',
  'model.waiting': {
    one: '{n} imagem está à espera dele.',
    other: '{n} imagens estão à espera dele.',
  },
  'model.waitNone': 'As imagens adicionadas entretanto ficam à espera dele.',
  'model.markedFailed': {
    one: '{n} imagem em espera marcada como não classificada.',
    other: '{n} imagens em espera marcadas como não classificadas.',
  },
  'model.loaded': 'O modelo está carregado.',
  'model.manifest':
    'não foi possível ler o manifesto de recursos do site ({error}); sem ligação antes da primeira visita, ou o servidor está em baixo?',

  'input.heading': 'Adicionar imagens',
  'input.dropTitle': 'Largue aqui imagens ou uma pasta',
  'input.dropSub':
    'PNG, JPEG, WebP ou BMP: um campo inteiro de microscópio (cada glóbulo vermelho é encontrado e contado) ou uma célula recortada por imagem.',
  'input.chooseImages': 'Escolher imagens',
  'input.chooseFolder': 'Escolher uma pasta',
  'input.readAs': 'Ler as imagens como',
  'input.dropFailed': 'Não foi possível ler os ficheiros largados: {error}',
  'mode.auto': 'Automático (campo ou célula)',
  'mode.cell': 'Células recortadas',
  'mode.field': 'Campos inteiros',
  'mode.cellName': 'célula recortada',
  'mode.fieldName': 'campo inteiro',

  'session.box': 'Sessão e lâmina',
  'session.new': 'Nova sessão',
  'session.list': 'Sessões…',
  'session.operator': 'Operador (opcional)',
  'session.slide': 'Identificação da lâmina ou do doente',
  'session.slidePlaceholder': 'escreva ou leia, depois Enter',
  'session.none': 'Nenhuma sessão',
  'session.of': 'Sessão de {date}',
  'session.legacy': 'Resultados anteriores (guardados antes das sessões, {date})',
  'session.started': '{session} iniciada: as imagens que adicionar vão para ela.',
  'session.reopened': {
    one: '{session} reaberta: {n} resultado{waiting}.',
    other: '{session} reaberta: {n} resultados{waiting}.',
  },
  'session.waiting': ', {n} em espera',
  'sessions.title': 'Sessões neste dispositivo',
  'sessions.hint':
    'Cada sessão fica neste dispositivo até a apagar. Abra uma para a ver, rever, imprimir ou exportar de novo.',
  'sessions.shown': '{session} (mostrada)',
  'sessions.images': { one: '{n} imagem', other: '{n} imagens' },
  'sessions.slides': { one: '; lâmina {list}', other: '; lâminas {list}' },
  'sessions.operator': '; operador {name}',
  'sessions.lastChange': '; última alteração {date}',
  'sessions.open': 'Abrir',
  'sessions.openLabel': 'Abrir {session}',
  'sessions.delete': 'Apagar',
  'sessions.deleteLabel': 'Apagar {session}',
  'sessions.deleteConfirm': {
    one: 'Apagar {session} e o seu {n} resultado deste dispositivo?',
    other: 'Apagar {session} e os seus {n} resultados deste dispositivo?',
  },
  'sessions.deleted': '{session} apagada deste dispositivo.',
  'sessions.deleteAll': 'Apagar todas as sessões',
  'sessions.deleteAllConfirm':
    'Apagar todas as sessões deste dispositivo, com todos os seus resultados e imagens? Não é possível desfazer.',
  'sessions.deletedAll':
    'Todas as sessões, com os seus resultados e imagens, foram apagadas deste dispositivo; {session} está aberta.',
  'sessions.goneElsewhere': '{session} foi apagada noutro separador; {next} é mostrada.',
  'sessions.allGoneElsewhere':
    'Todas as sessões foram apagadas noutro separador; {next} é mostrada.',
  'sessions.clearedElsewhere':
    '{session}: os seus resultados foram apagados noutro separador (Limpar resultados).',
  'sessions.unavailable':
    'O armazenamento não está disponível neste dispositivo: nenhuma sessão é guardada, e os resultados mostrados ficam apenas nesta página (exporte-os antes de a fechar).',
  'sessions.readFailed': 'Não foi possível ler as sessões deste dispositivo ({error}).',
  'dialog.close': 'Fechar',

  'slide.hintNone':
    'As imagens que adicionar não ficam associadas a nenhuma lâmina. Uma pasta dá uma lâmina por subpasta (o seu primeiro nível de pastas), com o nome da subpasta.',
  'slide.hintSet': 'As imagens que adicionar agora vão para a lâmina {slide}.',
  'slide.set': 'Lâmina {slide}: as imagens que adicionar agora vão para ela.',
  'slide.none': 'Sem identificação de lâmina.',

  'camera.use': 'Usar a câmara do microscópio',
  'camera.heading': 'Câmara',
  'camera.hint':
    'Foque o campo e depois capture. A imagem inteira é lida como um ficheiro; um campo de visão redondo (um telemóvel na ocular) e uma luz desigual não são problema.',
  'camera.capture': 'Capturar imagem',
  'camera.close': 'Fechar a câmara',
  'camera.starting': 'A iniciar a câmara…',
  'camera.ready': 'Câmara pronta. Capture uma imagem do campo.',
  'camera.nth': 'Câmara {n}',
  'camera.denied':
    'O acesso à câmara foi recusado. Permita a câmara para esta página nas definições do site do navegador (o ícone à esquerda da barra de endereço) e tente de novo.',
  'camera.notFound':
    'Não foi encontrada nenhuma câmara. Ligue a câmara do microscópio (USB) e tente de novo.',
  'camera.inUse':
    'A câmara está a ser usada por outra aplicação ou não pôde ser iniciada. Feche a outra aplicação e tente de novo.',
  'camera.failed': 'Não foi possível iniciar a câmara ({error}).',
  'camera.unknownError': 'erro desconhecido',
  'camera.insecure':
    'A câmara precisa de uma página segura (https:// ou http://localhost). Abra esta página por https, ou use antes o seletor de ficheiros.',
  'camera.unsupported': 'Este navegador não dá acesso à câmara. Use antes o seletor de ficheiros.',
  'camera.waitPermission':
    'À espera da autorização da câmara: responda ao pedido do navegador (perto da barra de endereço). Se não vir nenhum pedido, verifique as definições do site.',
  'camera.notRunning': 'A câmara não está a funcionar.',
  'camera.captureFailed': 'Não foi possível capturar uma imagem.',
  'camera.live': {
    one: '{n} glóbulo vermelho à vista (encontrado em direto; classificado depois de capturado)',
    other:
      '{n} glóbulos vermelhos à vista (encontrados em direto; classificados depois de capturados)',
  },
  'camera.liveNone':
    'Nenhum glóbulo vermelho encontrado: foque, ou passe para onde as células formam uma só camada.',

  'resume.resume': 'Retomar',
  'resume.discard': 'Descartá-las',
  'resume.text': {
    one: '{n} imagem de um lote interrompido ainda não foi classificada.',
    other: '{n} imagens de um lote interrompido ainda não foram classificadas.',
  },
  'resume.discarded': {
    one: '{n} imagem não classificada descartada.',
    other: '{n} imagens não classificadas descartadas.',
  },

  'batch.cancel': 'Cancelar',
  'batch.cancelling': 'A cancelar depois das imagens em curso…',
  'batch.waitModelFailed':
    'Imagens adicionadas; ficam à espera do modelo, que não pôde ser carregado (Tentar de novo, acima).',
  'batch.waitModel': 'Imagens adicionadas; serão classificadas quando o modelo estiver carregado.',
  'batch.start': { one: 'A classificar {n} imagem…', other: 'A classificar {n} imagens…' },
  'batch.progress': 'A classificar {done} de {total}',
  'batch.quarter': '{done} de {total} imagens classificadas.',
  'batch.done': {
    one: 'Concluído: {ok} de {n} imagem classificada',
    other: 'Concluído: {ok} de {n} imagens classificadas',
  },
  'batch.cancelled': {
    one: 'Cancelado: {ok} de {n} imagem classificada',
    other: 'Cancelado: {ok} de {n} imagens classificadas',
  },
  'batch.notReadable': { one: ', {n} ilegível', other: ', {n} ilegíveis' },
  'batch.refused': {
    one: ', {n} recusada (não é uma imagem de esfregaço sanguíneo nem uma só célula)',
    other: ', {n} recusadas (não são imagens de esfregaço sanguíneo nem uma só célula)',
  },
  'batch.notStarted': { one: ', {n} não iniciada', other: ', {n} não iniciadas' },
  'batch.inAll':
    '. No total: {n} células, {parasitized} parasitadas, {uncertain} a rever, {uninfected} não infetadas',
  'batch.fields':
    '; campos inteiros: {counted} glóbulos vermelhos contados, {parasitized} parasitados, {uncertain} a rever',
  'batch.end': '.',

  'worker.dismiss': 'Fechar',
  'worker.retriedWill': {
    one: '; a imagem que estava a ler será tentada de novo',
    other: '; as {n} imagens que estava a ler serão tentadas de novo',
  },
  'worker.retriedWas': {
    one: '; a imagem que estava a ler foi tentada de novo',
    other: '; as {n} imagens que estava a ler foram tentadas de novo',
  },
  'worker.rejected': {
    one: '; {n} imagem que o parou duas vezes marcada como falhada',
    other: '; {n} imagens que o pararam duas vezes marcadas como falhadas',
  },
  'worker.lost': 'Um Worker do classificador parou ({reason}) e está a ser reiniciado{more}.',
  'worker.restarted': 'Um Worker do classificador parou ({reason}) e foi reiniciado{more}.',
  'worker.stops': ' Os Workers pararam {n} vezes desde que a página foi aberta.',
  'worker.unknown': 'motivo desconhecido',
  'worker.cannotRestart':
    'Não foi possível reiniciar um Worker do classificador ({reason}); {n} continuam a funcionar.',
  'worker.allFailed':
    '{reason}. As imagens restantes ficam marcadas como não classificadas; recarregue a página para tentar de novo.',

  'results.heading': 'Resultados',
  'results.clear': 'Limpar resultados',
  'results.empty':
    'Ainda não há imagens nesta sessão. Adicione imagens acima; os resultados aparecem aqui e ficam neste dispositivo até os limpar ou apagar a sessão.',
  'results.clearConfirm': {
    one: 'Apagar o {n} resultado desta sessão deste dispositivo?',
    other: 'Apagar todos os {n} resultados desta sessão deste dispositivo?',
  },
  'results.cleared':
    'Os resultados desta sessão foram apagados deste dispositivo; as outras sessões são mantidas (Sessões…).',
  'results.clearFailed':
    'Não foi possível apagar os resultados deste dispositivo ({error}): continuam guardados.',
  'export.cellsCsv': 'CSV das células',
  'export.slidesCsv': 'CSV das lâminas',
  'export.json': 'JSON',
  'export.fhirTitle': 'Bundle HL7 FHIR R4: uma Observation por lâmina',
  'export.print': 'Imprimir relatórios por lâmina',
  'export.printTitle': 'Uma página A4 por lâmina',

  'summary.label': 'Resumo',
  'summary.cropsTitle': 'Imagens de células recortadas',
  'summary.classified': 'Células classificadas: o total',
  'summary.uninfectedWord': 'não infetadas',
  'summary.toReview': 'A rever (no total)',
  'summary.errors': 'Ilegíveis ou recusadas',
  'summary.shareTitle': 'Proporção de parasitadas (intervalo de Wilson a 95%)',
  'summary.shareDetail':
    'Parasitadas: {parasitized} de {classified} células classificadas (as {uncertain} a rever estão incluídas nas {classified}); intervalo de Wilson a 95% de {lo} a {hi}',
  'summary.fieldsTitle': 'Campos inteiros',
  'summary.fieldsLabel': 'Resumo dos campos inteiros',
  'summary.fieldsCounted': {
    one: 'Glóbulos vermelhos contados em {n} campo',
    other: 'Glóbulos vermelhos contados em {n} campos',
  },
  'summary.pooled': 'Parasitemia global: {text}; excluídos: {excluded}',
  'summary.apart':
    'As células recortadas e os campos inteiros são resumidos em separado: as células recortadas foram escolhidas por alguém, por isso só as células contadas em campos inteiros dão uma parasitemia.',
  'stats.percent': '{x}%',
  'stats.noCells': 'nenhum glóbulo vermelho contado',
  'stats.parasitemia': {
    one: '{p}% (IC 95% {lo}–{hi}%) de {n} célula',
    other: '{p}% (IC 95% {lo}–{hi}%) de {n} células',
  },

  'band.confidentUninfected': 'Fiável: não infetada',
  'band.confidentParasitized': 'Fiável: parasitada',
  'band.inBand': 'Na zona de incerteza: a rever',
  'band.above': 'Fiável: p acima de {hi}, o limite superior da zona de incerteza',
  'band.atOrBelow': 'Fiável: p igual ou inferior a {lo}, o limite inferior da zona de incerteza',
  'band.inRange': 'Na zona de incerteza ({lo}–{hi}): a rever, sem classificação',
  'band.note':
    'Uma célula fica "a rever" quando a probabilidade de estar parasitada, segundo o modelo, cai na sua zona de incerteza, acima de {lo} e até {hi}, onde as suas classificações não são suficientemente fiáveis{err}: fica no total e não é parasitada nem não infetada até que um microscopista a classifique.',
  'band.noteError':
    ' (fora dela, {pct} das classificações em células de teste reservadas estavam erradas)',

  'slides.heading': 'Por lâmina',
  'slides.slide': 'Lâmina',
  'slides.from': 'Origem',
  'slides.cells': 'Células contadas',
  'slides.toReview': 'A rever',
  'slides.share': 'Parasitemia ou proporção (intervalo de Wilson a 95%), denominador',
  'slides.leftOut': 'Excluídas',
  'slides.afterReview': 'Após a sua revisão',
  'slides.notRead': 'Não lidas',
  'slides.noId': '(sem identificação)',
  'slides.fromFields': { one: '{n} campo inteiro', other: '{n} campos inteiros' },
  'slides.fromCrops': { one: '{n} célula recortada', other: '{n} células recortadas' },
  'slides.reviewed': '{n} revistas: {parasitized} parasitadas, {uncertain} a rever; {share}',
  'slides.imagesOf': { one: '{slide} ({n} imagem)', other: '{slide} ({n} imagens)' },
  'slides.split': {
    one: 'A pasta {folder} deu {n} lâmina, uma por subpasta: {list}.',
    other: 'A pasta {folder} deu {n} lâminas, uma por subpasta: {list}.',
  },
  'slides.folders': {
    one: 'Pasta como lâmina: {list}.',
    other: 'Pastas como lâminas: {list}.',
  },

  'filter.label': 'Mostrar',
  'filter.all': 'Todas as imagens',
  'filter.uncertain': 'A rever (incertas)',
  'sort.label': 'Ordenar por',
  'sort.order': 'Ordem de entrada',
  'sort.pDesc': 'Probabilidade, a mais alta primeiro',
  'sort.pAsc': 'Probabilidade, a mais baixa primeiro',
  'sort.name': 'Nome do ficheiro',
  'heat.all': 'Mapas de calor em todas as células recortadas não classificadas como não infetadas',
  'heat.lowers': 'tapá-la baixa P(parasitada)',
  'heat.raises': 'sobe-a',
  'heat.button': 'Mapa de calor',
  'heat.label': 'Mapa de calor de {name}',
  'heat.computing': 'Mapa de calor: a calcular…',
  'heat.failed': 'Mapa de calor indisponível: {error}',

  'call.parasitized': 'Parasitada',
  'call.uninfected': 'Não infetada',
  'call.uncertain': 'Incerta: enviar a um microscopista',
  'count.parasitized': 'Parasitadas',
  'count.uninfected': 'Não infetadas',
  'word.parasitized': 'parasitada',
  'word.uninfected': 'não infetada',
  'word.toReview': 'a rever',
  'word.leftOut': 'excluída',
  'word.none': 'nenhuma',
  'word.share': 'proporção',
  'word.parasitemia': 'parasitemia',
  'excluded.border': { one: '{n} cortada pelo bordo', other: '{n} cortadas pelo bordo' },
  'excluded.white': { one: '{n} glóbulo branco', other: '{n} glóbulos brancos' },
  'excluded.debris': { one: '{n} detrito ou plaqueta', other: '{n} detritos ou plaquetas' },
  'excluded.clump': { one: '{n} aglomerado não separado', other: '{n} aglomerados não separados' },

  'alt.notReadable': '{name}: ilegível',
  'alt.pending': '{name}: ainda não classificada',
  'alt.cell': '{call}, probabilidade de estar parasitada {p}: {name}',
  'card.slide': 'Lâmina {slide}',
  'card.notAnalysed': 'Não analisada',
  'card.notReadable': 'Ilegível',
  'card.waitingModel': 'À espera do modelo',
  'card.waiting': 'Em espera',
  'card.modelFailed': 'Não foi possível carregar o modelo: tente de novo acima.',
  'card.gaveUp': 'não classificada: não foi possível carregar o modelo ({reason})',
  'card.prob': 'P(parasitada) = {p}',
  'card.readAs': 'Lida como {mode}',
  'card.readAsAuto': 'Lida como {mode} (automático)',
  'card.triedAs': 'Tentada como {mode}',
  'card.rereadField': 'Ler como campo',
  'card.rereadCell': 'Ler como célula',
  'card.rereadLabel': '{button} de novo: {name}, como {mode}',
  'card.rereading': 'A ler {name} de novo como {mode}…',
  'error.lead': '{kind}. Mensagem do classificador (em inglês):',
  'error.kindStopped': 'Esta imagem parou o classificador duas vezes',
  'error.kindNotSmear': 'Não é uma imagem de esfregaço sanguíneo',
  'error.kindNotCell': 'Não é um único glóbulo vermelho recortado',
  'error.kindGreyscale':
    'Imagem em tons de cinzento: o modelo precisa de uma imagem a cores (coloração de Giemsa)',
  'error.kindTooLarge': 'Demasiado grande para o classificador',
  'error.kindEmpty': 'Vazia ou demasiado pequena',
  'error.kindCorrupt': 'Ficheiro danificado ou incompleto',
  'error.kindUnsupported': 'Não é uma imagem suportada (PNG, JPEG, BMP ou WebP)',
  'error.kindMemory': 'Memória insuficiente neste dispositivo',
  'error.kindOther': 'Não foi possível classificar',

  'review.cellOf': 'célula {index} de {name}',
  'review.groupLabel': 'A sua classificação de {what}',
  'review.yourCall': 'A sua classificação:',
  'review.reviewed': 'Revista: {call}',
  'review.confirmed': 'Revista: {call} (confirmada)',
  'review.overturned': 'Revista: {call} (alterada)',
  'review.callLabel': 'Classificar {what}: {call}',
  'review.undoLabel': 'Anular a sua classificação de {what}: {call}',
  'review.keys': '{key}; C confirma a classificação do modelo, Delete anula',
  'review.announce': '{who}: a sua classificação, {call}.',
  'review.announceUndo': '{who}: a sua classificação foi anulada.',
  'review.noneYet': 'ainda nenhuma célula revista',
  'review.fieldText': {
    one: '{n} célula revista: {parasitized} parasitadas, {uncertain} a rever; parasitemia {parasitemia}',
    other:
      '{n} células revistas: {parasitized} parasitadas, {uncertain} a rever; parasitemia {parasitemia}',
  },
  'review.after': {
    one: 'Após a sua revisão ({n} célula revista): {parasitized} parasitadas, {uncertain} a rever, {uninfected} não infetadas; {what} {value}. As do modelo: {modelParasitized} parasitadas, {modelUncertain} a rever.',
    other:
      'Após a sua revisão ({n} células revistas): {parasitized} parasitadas, {uncertain} a rever, {uninfected} não infetadas; {what} {value}. As do modelo: {modelParasitized} parasitadas, {modelUncertain} a rever.',
  },

  'cell.title': 'Célula {index}',
  'cell.text': 'Célula {index}: {call}, P(parasitada) {p}',
  'cell.cropLabel': 'Célula {index}, recortada pelo seu contorno',
  'cell.box': 'Caixa {w}×{h} px em {x}, {y}',
  'field.overlayLabel': 'Glóbulos vermelhos de {name}: as setas passam de uma célula a outra',
  'field.alt':
    '{name}: campo inteiro, {counted} glóbulos vermelhos contados, {parasitized} parasitados, {uncertain} a rever',
  'field.counted': 'Glóbulos vermelhos contados',
  'field.uncertainRow': 'A rever (incertos, no total)',
  'field.parasitemia': 'Parasitemia',
  'field.afterReview': 'Após revisão',
  'field.hintCells':
    'Clique ou toque numa célula para a ver; com o teclado, Enter neste cartão e depois as setas.',
  'field.noCells': 'Nenhum glóbulo vermelho foi contado nesta imagem.',
  'field.whole': 'Campo inteiro',
  'field.headSlide': '{name} · lâmina {slide}',

  'save.full':
    'O armazenamento deste dispositivo está cheio: não foi possível guardar {what}. Exporte as sessões de que precisa e depois apague as mais antigas (Sessões…) para libertar espaço.',
  'save.failed': 'Não foi possível guardar {what}: {error}',
  'save.whatResult': 'o resultado de {name}',
  'save.whatResults': {
    one: 'o resultado de {n} imagem ({name}, …)',
    other: 'os resultados de {n} imagens ({name}, …)',
  },
  'save.whatReview': 'a revisão de {name}',
  'save.whatSession': 'a sessão',
  'save.whatNewSession': 'uma nova sessão',
  'save.whatImages': { one: 'a imagem adicionada', other: 'as {n} imagens adicionadas' },
  'unsaved.text': {
    one: '{why} A imagem adicionada é classificada na mesma, mas só fica nesta página: exporte os resultados antes de a fechar.',
    other:
      '{why} As {n} imagens adicionadas são classificadas na mesma, mas só ficam nesta página: exporte os resultados antes de a fechar.',
  },
  'storage.unavailable': 'O armazenamento não está disponível neste dispositivo.',
  'storage.info': 'Guardado neste dispositivo: {used} MB de {quota} GB.',
  'storage.infoPersistent': 'Guardado neste dispositivo: {used} MB de {quota} GB (persistente).',
  'store.unavailable':
    'Os resultados não podem ser guardados neste dispositivo (IndexedDB indisponível: {error}).',
  'footer.local': 'Funciona inteiramente neste navegador: as imagens nunca saem do dispositivo.',
  'footer.version': 'Versão do site {version}; modelo {model}.',

  'report.kind': 'Relatório de rastreio de malária (apenas para investigação e ensino)',
  'report.noId': '(sem identificação)',
  'report.session': 'Sessão',
  'report.printed': 'Impresso',
  'report.operator': 'Operador',
  'report.model': 'Modelo',
  'report.modelVersion': '{name} versão {version}',
  'report.modelLine': '{model}{arch}; versão do site {site}',
  'report.digest': 'sha256 do ficheiro do modelo',
  'report.band': 'Zona de incerteza',
  'report.bandValue': '{lo} < p ≤ {hi}: células a rever, no total',
  'report.share': 'Parasitemia ou proporção (intervalo de Wilson a 95%)',
  'report.fromFields': { one: '{n} campo inteiro (modelo)', other: '{n} campos inteiros (modelo)' },
  'report.fromCrops': {
    one: '{n} célula recortada (modelo)',
    other: '{n} células recortadas (modelo)',
  },
  'report.afterReview': 'após revisão ({n} revistas)',
  'report.toReview': 'Células a rever',
  'report.parasitized': 'Células parasitadas',
  'report.group': '{title} ({n})',
  'report.firstShown': '{title} ({n}): mostradas as primeiras {max}',
  'report.thumbCell': '{name}, célula {index}',
  'report.thumb': '{what}: p {p}',
  'report.thumbReviewed': '{what}: p {p}, revista',
  'report.legend':
    'Sob cada miniatura: a probabilidade de estar parasitada segundo o modelo; ✓: revista pelo técnico.',
  'report.ready': {
    one: 'Relatório por lâmina pronto: {n} página, uma por lâmina.',
    other: 'Relatório por lâmina pronto: {n} páginas, uma por lâmina.',
  },

  'modelcard.button': 'Ficha do modelo',
  'mc.does': 'O que faz',
  'mc.doesText':
    'Para cada glóbulo vermelho, dá a probabilidade de a célula estar parasitada (Plasmodium, num esfregaço fino corado com Giemsa). As imagens de campos inteiros são primeiro recortadas em glóbulos vermelhos; os glóbulos brancos, os detritos, os aglomerados e as células cortadas pelo bordo são excluídos e contados à parte.',
  'mc.trained': 'Treinado com',
  'mc.split':
    '; divisão {split}, de modo que nenhuma lâmina está em mais do que um dos conjuntos de treino, validação e teste',
  'mc.allSlides':
    '; este modelo final aprendeu com todas elas. Os seus números abaixo são os da mesma receita treinada apenas nas lâminas de treino (divisão {split}) e medida nas lâminas de teste reservadas',
  'mc.accuracy': 'Exatidão medida',
  'mc.accuracyText':
    'Em {n} células recortadas de lâminas de teste reservadas: {acc} das classificações estavam certas',
  'mc.sensitivity': '; {x} das células parasitadas foram encontradas (sensibilidade)',
  'mc.specificity':
    '; {x} das células não infetadas foram classificadas como não infetadas (especificidade)',
  'mc.uncertain':
    ' {x} dessas células caíram na zona de incerteza (p acima de {lo} e até {hi}) e ficam "a rever"',
  'mc.errorOutside': '; das restantes, {x} foram mal classificadas',
  'mc.input': 'Entrada',
  'mc.inputText': 'Cada célula é redimensionada para {s} x {s} píxeis para a rede',
  'mc.inputSlower':
    ' ({k} vezes os píxeis de um modelo 64 x 64: conte com que seja cerca de tantas vezes mais lento)',
  'mc.classes': 'Classes',
  'mc.positive': '; "{pos}" é a classe parasitada, qualquer outra classe conta como não parasitada',
  'mc.limits': 'Limites',
  'mc.limitsText':
    'Os números acima vêm de células recortadas do conjunto de dados público com que foi treinado (um só hospital, fotografias de telemóvel, P. falciparum). Em campos inteiros de outro local e de outro microscópio (docs/FIELD.md), classificou cerca de 1 % das células não infetadas como parasitadas e pôs cerca de um terço das células na zona de incerteza. Não foi validado para outros microscópios, colorações ou espécies de Plasmodium, e não distingue espécies nem estádios. É um auxílio ao rastreio para investigação e ensino, não um diagnóstico nem um dispositivo médico: um microscopista revê cada resultado, sobretudo as células a rever.',
  'mc.engine': 'motor',
  'mc.engineValue': {
    one: '{variant}, {n} worker, neste dispositivo',
    other: '{variant}, {n} workers, neste dispositivo',
  },
  'mc.noSimd': 'WebAssembly (sem SIMD)',
  'mc.readFrom': 'modelo lido de',
  'mc.localCopy': 'cópia local (este navegador, verificada)',
  'mc.sha': 'sha256 do modelo',
  'mc.thisCopy': 'Esta cópia',
  'mc.raw': 'Metadados técnicos (tal como guardados no ficheiro do modelo)',

  'export.meta':
    '# exportação malaria-screen. {notice} Modelo: {model}; sha256 do ficheiro: {digest}; {band} (p = probabilidade de estar parasitada; as células na zona são a rever); {operator}{session}exportado: {exported}.',
  'export.unknown': 'desconhecido',
  'export.operator': 'operador: {name}; ',
  'export.session': 'sessão: {session}; ',
  'export.band': 'zona de incerteza {lo} < p <= {hi}',
  'export.bandUnknown': 'zona de incerteza desconhecida',

  'widget.drop': 'Largue aqui um campo ou a imagem de uma célula, ou',
  'widget.choose': 'Escolher uma imagem',
  'widget.notice':
    'Auxílio ao rastreio apenas para investigação e ensino, não um diagnóstico. Os resultados incertos têm de ser revistos por um microscopista.',
  'widget.loading': 'A carregar o modelo…',
  'widget.ready': 'Pronto.',
  'widget.classifying': 'A classificar {name}…',
  'widget.inBand': 'Na zona de incerteza: a rever, sem classificação',
  'widget.statusCell': '{name}: {call}, P(parasitada) {p}.',
  'widget.counts':
    '{counted} glóbulos vermelhos contados, {parasitized} parasitados, {uncertain} a rever',
  'widget.fieldAlt': 'Campo inteiro: {counts}: {name}',
  'widget.parasitemia': 'Parasitemia {text}',
  'widget.statusField': '{name}: campo inteiro, {counts}.',
  'widget.heatComputing': 'A calcular o mapa de calor…',
  'widget.heatDrawn': '{name}: mapa de calor desenhado (onde tapar a célula baixa P(parasitada)).',
  'grid.help':
    'Os resultados são uma só paragem da tecla Tab: as setas passam de um cartão a outro, Home e End vão para o primeiro e o último, Enter entra num cartão e Escape volta a sair; P, U, C e Delete reveem o cartão com o foco.',
  'net.offlineStored':
    'Sem ligação: esta página e o seu modelo estão guardados neste dispositivo, por isso o rastreio continua sem rede.',
  'net.offlineNotStored':
    'Sem ligação: o rastreio continua enquanto esta página estiver aberta, mas ainda não está guardada para uso sem ligação: não a recarregue até a rede voltar.',
  'model.download': 'Transferência do modelo',
  'model.downloading': 'A transferir o modelo: {loaded} de {total} MB',
  'model.downloadingSoFar': 'A transferir o modelo: {loaded} MB',
  'model.downloaded': 'Modelo transferido: {n} bytes.',
  'model.fromCopy': 'Modelo lido da cópia deste dispositivo ({n} bytes): nada foi transferido.',
  'notices.label': 'Avisos',
  'input.dropTitleTouch': 'Fotografe um campo ou escolha imagens',
  'input.paste': ' Também pode colar uma imagem (Ctrl+V).',
  'embed.refused':
    'Este classificador não responde a páginas de {origin}: essa origem não está em allowedOrigins do embed-config.json do site de rastreio (web/serve.mjs: --allow-embed ORIGEM).',
  'embed.opaque':
    'Este classificador não funciona aqui: a sua moldura não tem origem própria (uma iframe em sandbox sem allow-same-origin, ou uma página aberta a partir de um ficheiro), por isso não consegue saber que páginas o podem usar. Incorpore-o a partir do endereço https:// do site de rastreio, e só o coloque em sandbox com allow-same-origin.',
  'widget.dropTouch': 'Uma fotografia de um campo ou de uma célula:',
  'widget.file': 'Ficheiro: {name}',
  'report.landmark': 'Relatórios por lâmina',
};
