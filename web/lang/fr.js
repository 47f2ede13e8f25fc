// Français. Les clés et les {paramètres} sont ceux de en.js ; le test de complétude
// (tests/web/i18n.test.mjs) le vérifie. Typographie française : espace insécable (U+00A0)
// avant : ; ? ! et %, et à l'intérieur des guillemets « ».
export default {
  'lang.name': 'Français',
  'lang.dir': 'ltr',
  'lang.label': 'Langue',
  'lang.changed': 'La page est maintenant en français.',

  'page.title': 'Dépistage du paludisme sur cellules',
  'page.description':
    "Analyse d'images de frottis sanguins minces (champs de microscope entiers ou globules rouges découpés) à la recherche de parasites du paludisme, sur cet appareil, hors ligne. Usage réservé à la recherche et à l'enseignement.",
  'page.skip': 'Aller aux résultats',
  'page.tagline':
    'Champs de frottis minces et globules rouges, classés sur cet appareil. Rien n’est envoyé.',
  'embed.title': 'Dépistage du paludisme sur cellules (intégré)',

  'notice.title': 'Usage réservé à la recherche et à l’enseignement.',
  'notice.before':
    'Ceci est une aide au dépistage, pas un diagnostic ni un dispositif médical. Chaque résultat, et surtout chaque résultat',
  'notice.uncertain': 'incertain',
  'notice.after': ', doit être revu par un microscopiste qualifié.',
  'notice.intendedUse':
    'Usage prévu : aide au dépistage, pour la recherche et l’enseignement uniquement. Ce n’est ni un diagnostic ni un dispositif médical. Chaque résultat, et surtout chaque résultat « incertain », doit être revu par un microscopiste qualifié avant toute décision clinique.',

  'engine.loading': 'Chargement du modèle…',
  'engine.ready': 'Modèle prêt · {variant}',
  'engine.scalar': 'scalaire',
  'engine.failed': 'Échec du chargement du modèle',
  'update.available': 'Une nouvelle version de cette page est disponible.',
  'update.reload': 'Recharger pour mettre à jour',
  'update.willReload': 'Rechargement à la fin du lot',

  'model.retry': 'Réessayer',
  'model.giveUp': 'Marquer les images en attente comme échouées',
  'model.failed': 'Le modèle n’a pas pu être chargé : {reason}',
  'model.waiting': {
    one: '{n} image l’attend.',
    other: '{n} images l’attendent.',
  },
  'model.waitNone': 'Les images ajoutées entre-temps l’attendent.',
  'model.markedFailed': {
    one: '{n} image en attente marquée comme non classée.',
    other: '{n} images en attente marquées comme non classées.',
  },
  'model.loaded': 'Le modèle est chargé.',
  'model.manifest':
    'le manifeste des ressources du site n’a pas pu être lu ({error}) ; hors ligne avant la première visite, ou serveur arrêté ?',

  'input.heading': 'Ajouter des images',
  'input.dropTitle': 'Déposez ici des images ou un dossier',
  'input.dropSub':
    'PNG, JPEG, WebP ou BMP : un champ de microscope entier (chaque globule rouge est repéré et compté) ou une cellule découpée par image.',
  'input.chooseImages': 'Choisir des images',
  'input.chooseFolder': 'Choisir un dossier',
  'input.readAs': 'Lire les images comme',
  'input.dropFailed': 'Impossible de lire les fichiers déposés : {error}',
  'mode.auto': 'Automatique (champ ou cellule)',
  'mode.cell': 'Cellules découpées',
  'mode.field': 'Champs entiers',
  'mode.cellName': 'cellule découpée',
  'mode.fieldName': 'champ entier',

  'session.box': 'Session et lame',
  'session.new': 'Nouvelle session',
  'session.list': 'Sessions…',
  'session.operator': 'Opérateur (facultatif)',
  'session.slide': 'Identifiant de la lame ou du patient',
  'session.slidePlaceholder': 'saisir ou scanner, puis Entrée',
  'session.none': 'Aucune session',
  'session.of': 'Session du {date}',
  'session.legacy': 'Résultats antérieurs (conservés avant les sessions, {date})',
  'session.started': '{session} commencée : les images ajoutées y vont.',
  'session.reopened': {
    one: '{session} rouverte : {n} résultat{waiting}.',
    other: '{session} rouverte : {n} résultats{waiting}.',
  },
  'session.waiting': ', {n} en attente',
  'sessions.title': 'Sessions sur cet appareil',
  'sessions.hint':
    'Chaque session reste sur cet appareil jusqu’à ce que vous la supprimiez. Ouvrez-en une pour la revoir, la vérifier, l’imprimer ou l’exporter à nouveau.',
  'sessions.shown': '{session} (affichée)',
  'sessions.images': { one: '{n} image', other: '{n} images' },
  'sessions.slides': { one: ' ; lame {list}', other: ' ; lames {list}' },
  'sessions.operator': ' ; opérateur {name}',
  'sessions.lastChange': ' ; dernière modification {date}',
  'sessions.open': 'Ouvrir',
  'sessions.openLabel': 'Ouvrir {session}',
  'sessions.delete': 'Supprimer',
  'sessions.deleteLabel': 'Supprimer {session}',
  'sessions.deleteConfirm': {
    one: 'Supprimer {session} et son {n} résultat de cet appareil ?',
    other: 'Supprimer {session} et ses {n} résultats de cet appareil ?',
  },
  'sessions.deleted': '{session} supprimée de cet appareil.',
  'sessions.deleteAll': 'Supprimer toutes les sessions',
  'sessions.deleteAllConfirm':
    'Supprimer toutes les sessions de cet appareil, avec tous leurs résultats et leurs images ? Cette action est irréversible.',
  'sessions.deletedAll':
    'Toutes les sessions, avec leurs résultats et leurs images, ont été supprimées de cet appareil ; {session} est ouverte.',
  'sessions.goneElsewhere': '{session} a été supprimée dans un autre onglet ; {next} est affichée.',
  'sessions.allGoneElsewhere':
    'Toutes les sessions ont été supprimées dans un autre onglet ; {next} est affichée.',
  'sessions.clearedElsewhere':
    '{session} : ses résultats ont été supprimés dans un autre onglet (Effacer les résultats).',
  'sessions.unavailable':
    'Le stockage n’est pas disponible sur cet appareil : aucune session n’est conservée, et les résultats affichés ne sont gardés que sur cette page (exportez-les avant de la fermer).',
  'sessions.readFailed': 'Impossible de lire les sessions de cet appareil ({error}).',
  'dialog.close': 'Fermer',

  'slide.hintNone':
    'Les images ajoutées ne sont rattachées à aucune lame. Un dossier donne une lame par sous-dossier (son premier niveau de dossiers), nommée d’après le sous-dossier.',
  'slide.hintSet': 'Les images ajoutées vont maintenant sur la lame {slide}.',
  'slide.set': 'Lame {slide} : les images ajoutées y vont maintenant.',
  'slide.none': 'Aucun identifiant de lame.',

  'camera.use': 'Utiliser la caméra du microscope',
  'camera.heading': 'Caméra',
  'camera.hint':
    'Faites la mise au point sur le champ, puis capturez. L’image entière est lue comme un fichier ; un champ de vision rond (un téléphone à l’oculaire) et une lumière inégale ne gênent pas.',
  'camera.capture': 'Capturer une image',
  'camera.close': 'Fermer la caméra',
  'camera.starting': 'Démarrage de la caméra…',
  'camera.ready': 'Caméra prête. Capturez une image du champ.',
  'camera.nth': 'Caméra {n}',
  'camera.denied':
    'L’accès à la caméra a été refusé. Autorisez la caméra pour cette page dans les paramètres du site du navigateur (l’icône à gauche de la barre d’adresse), puis réessayez.',
  'camera.notFound': 'Aucune caméra trouvée. Branchez la caméra du microscope (USB) et réessayez.',
  'camera.inUse':
    'La caméra est utilisée par une autre application ou n’a pas pu démarrer. Fermez l’autre application et réessayez.',
  'camera.failed': 'La caméra n’a pas pu démarrer ({error}).',
  'camera.unknownError': 'erreur inconnue',
  'camera.insecure':
    'La caméra exige une page sécurisée (https:// ou http://localhost). Ouvrez cette page en https, ou utilisez plutôt le sélecteur de fichiers.',
  'camera.unsupported':
    'Ce navigateur ne donne pas accès à la caméra. Utilisez plutôt le sélecteur de fichiers.',
  'camera.waitPermission':
    'En attente de l’autorisation de la caméra : répondez à la demande du navigateur (près de la barre d’adresse). Si aucune demande n’est visible, vérifiez les paramètres du site.',
  'camera.notRunning': 'La caméra n’est pas en marche.',
  'camera.captureFailed': 'Impossible de capturer une image.',
  'camera.live': {
    one: '{n} globule rouge visible (trouvé en direct ; classé une fois capturé)',
    other: '{n} globules rouges visibles (trouvés en direct ; classés une fois capturés)',
  },
  'camera.liveNone':
    'Aucun globule rouge trouvé : faites la mise au point, ou allez là où les cellules forment une seule couche.',

  'resume.resume': 'Reprendre',
  'resume.discard': 'Les abandonner',
  'resume.text': {
    one: '{n} image d’un lot interrompu n’a pas encore été classée.',
    other: '{n} images d’un lot interrompu n’ont pas encore été classées.',
  },
  'resume.discarded': {
    one: '{n} image non classée abandonnée.',
    other: '{n} images non classées abandonnées.',
  },

  'batch.cancel': 'Annuler',
  'batch.cancelling': 'Annulation après les images en cours…',
  'batch.waitModelFailed':
    'Images ajoutées ; elles attendent le modèle, qui n’a pas pu être chargé (Réessayer ci-dessus).',
  'batch.waitModel': 'Images ajoutées ; elles seront classées une fois le modèle chargé.',
  'batch.start': { one: 'Classement de {n} image…', other: 'Classement de {n} images…' },
  'batch.progress': 'Classement : {done} sur {total}',
  'batch.quarter': '{done} images sur {total} classées.',
  'batch.done': {
    one: 'Terminé : {ok} image sur {n} classée',
    other: 'Terminé : {ok} images sur {n} classées',
  },
  'batch.cancelled': {
    one: 'Annulé : {ok} image sur {n} classée',
    other: 'Annulé : {ok} images sur {n} classées',
  },
  'batch.notReadable': { one: ', {n} illisible', other: ', {n} illisibles' },
  'batch.refused': {
    one: ', {n} refusée (pas une image de frottis sanguin ni une cellule seule)',
    other: ', {n} refusées (pas des images de frottis sanguin ni des cellules seules)',
  },
  'batch.notStarted': { one: ', {n} non commencée', other: ', {n} non commencées' },
  'batch.inAll':
    '. Au total : {n} cellules, {parasitized} parasitées, {uncertain} à revoir, {uninfected} non infectées',
  'batch.fields':
    ' ; champs entiers : {counted} globules rouges comptés, {parasitized} parasités, {uncertain} à revoir',
  'batch.end': '.',

  'worker.dismiss': 'Fermer',
  'worker.retriedWill': {
    one: ' ; l’image qu’il lisait sera réessayée',
    other: ' ; les {n} images qu’il lisait seront réessayées',
  },
  'worker.retriedWas': {
    one: ' ; l’image qu’il lisait a été réessayée',
    other: ' ; les {n} images qu’il lisait ont été réessayées',
  },
  'worker.rejected': {
    one: ' ; {n} image qui l’a arrêté deux fois marquée comme échouée',
    other: ' ; {n} images qui l’ont arrêté deux fois marquées comme échouées',
  },
  'worker.lost': 'Un Worker du classificateur s’est arrêté ({reason}) et redémarre{more}.',
  'worker.restarted': 'Un Worker du classificateur s’est arrêté ({reason}) et a redémarré{more}.',
  'worker.stops': ' Des Workers se sont arrêtés {n} fois depuis l’ouverture de la page.',
  'worker.unknown': 'raison inconnue',
  'worker.cannotRestart':
    'Un Worker du classificateur n’a pas pu redémarrer ({reason}) ; {n} fonctionnent encore.',
  'worker.allFailed':
    '{reason}. Les images restantes sont marquées comme non classées ; rechargez la page pour réessayer.',

  'results.heading': 'Résultats',
  'results.clear': 'Effacer les résultats',
  'results.empty':
    'Aucune image dans cette session pour l’instant. Ajoutez des images ci-dessus ; les résultats apparaissent ici et restent sur cet appareil jusqu’à ce que vous les effaciez ou supprimiez la session.',
  'results.clearConfirm': {
    one: 'Supprimer le {n} résultat de cette session de cet appareil ?',
    other: 'Supprimer les {n} résultats de cette session de cet appareil ?',
  },
  'results.cleared':
    'Les résultats de cette session ont été supprimés de cet appareil ; les autres sessions sont conservées (Sessions…).',
  'results.clearFailed':
    'Impossible de supprimer les résultats de cet appareil ({error}) : ils restent enregistrés.',
  'export.cellsCsv': 'CSV des cellules',
  'export.slidesCsv': 'CSV des lames',
  'export.json': 'JSON',
  'export.fhirTitle': 'Bundle HL7 FHIR R4 : une Observation par lame',
  'export.print': 'Imprimer les rapports par lame',
  'export.printTitle': 'Une page A4 par lame',

  'summary.label': 'Résumé',
  'summary.cropsTitle': 'Images de cellules découpées',
  'summary.classified': 'Cellules classées : le total',
  'summary.uninfectedWord': 'non infectées',
  'summary.toReview': 'À revoir (dans le total)',
  'summary.errors': 'Illisibles ou refusées',
  'summary.shareTitle': 'Part de cellules parasitées (intervalle de Wilson à 95 %)',
  'summary.shareDetail':
    'Parasitées : {parasitized} sur {classified} cellules classées (les {uncertain} à revoir font partie des {classified}) ; intervalle de Wilson à 95 % de {lo} à {hi}',
  'summary.fieldsTitle': 'Champs entiers',
  'summary.fieldsLabel': 'Résumé des champs entiers',
  'summary.fieldsCounted': {
    one: 'Globules rouges comptés dans {n} champ',
    other: 'Globules rouges comptés dans {n} champs',
  },
  'summary.pooled': 'Parasitémie globale : {text} ; exclus : {excluded}',
  'summary.apart':
    'Les cellules découpées et les champs entiers sont résumés séparément : les cellules découpées ont été choisies par quelqu’un, seules les cellules comptées dans des champs entiers donnent donc une parasitémie.',
  'stats.percent': '{x} %',
  'stats.noCells': 'aucun globule rouge compté',
  'stats.parasitemia': {
    one: '{p} % (IC 95 % {lo}–{hi} %) de {n} cellule',
    other: '{p} % (IC 95 % {lo}–{hi} %) de {n} cellules',
  },

  'band.confidentUninfected': 'Fiable : non infectée',
  'band.confidentParasitized': 'Fiable : parasitée',
  'band.inBand': 'Dans la zone d’incertitude : à revoir',
  'band.above': 'Fiable : p au-dessus de {hi}, la borne supérieure de la zone d’incertitude',
  'band.atOrBelow':
    'Fiable : p inférieur ou égal à {lo}, la borne inférieure de la zone d’incertitude',
  'band.inRange': 'Dans la zone d’incertitude ({lo}–{hi}) : à revoir, pas de verdict',
  'band.note':
    'Une cellule est « à revoir » quand la probabilité de parasitisme donnée par le modèle se situe dans sa zone d’incertitude, au-dessus de {lo} et jusqu’à {hi}, où ses verdicts ne sont pas assez fiables{err} : elle reste dans le total et n’est ni parasitée ni non infectée tant qu’un microscopiste ne l’a pas tranchée.',
  'band.noteError':
    ' (en dehors, {pct} des verdicts sur les cellules de test mises de côté étaient faux)',

  'slides.heading': 'Par lame',
  'slides.slide': 'Lame',
  'slides.from': 'Source',
  'slides.cells': 'Cellules comptées',
  'slides.toReview': 'À revoir',
  'slides.share': 'Parasitémie ou part (intervalle de Wilson à 95 %), dénominateur',
  'slides.leftOut': 'Exclues',
  'slides.afterReview': 'Après votre vérification',
  'slides.notRead': 'Non lues',
  'slides.noId': '(sans identifiant)',
  'slides.fromFields': { one: '{n} champ entier', other: '{n} champs entiers' },
  'slides.fromCrops': { one: '{n} cellule découpée', other: '{n} cellules découpées' },
  'slides.reviewed': '{n} vérifiées : {parasitized} parasitées, {uncertain} à revoir ; {share}',
  'slides.imagesOf': { one: '{slide} ({n} image)', other: '{slide} ({n} images)' },
  'slides.split': {
    one: 'Le dossier {folder} a donné {n} lame, une par sous-dossier : {list}.',
    other: 'Le dossier {folder} a donné {n} lames, une par sous-dossier : {list}.',
  },
  'slides.folders': {
    one: 'Dossier comme lame : {list}.',
    other: 'Dossiers comme lames : {list}.',
  },

  'filter.label': 'Afficher',
  'filter.all': 'Toutes les images',
  'filter.uncertain': 'À revoir (incertaines)',
  'sort.label': 'Trier par',
  'sort.order': 'Ordre d’ajout',
  'sort.pDesc': 'Probabilité, la plus haute d’abord',
  'sort.pAsc': 'Probabilité, la plus basse d’abord',
  'sort.name': 'Nom de fichier',
  'heat.all': 'Cartes de chaleur sur toutes les cellules découpées non classées « non infectée »',
  'heat.lowers': 'la masquer abaisse P(parasitée)',
  'heat.raises': 'l’augmente',
  'heat.button': 'Carte de chaleur',
  'heat.label': 'Carte de chaleur de {name}',
  'heat.computing': 'Carte de chaleur : calcul…',
  'heat.failed': 'Carte de chaleur indisponible : {error}',

  'call.parasitized': 'Parasitée',
  'call.uninfected': 'Non infectée',
  'call.uncertain': 'Incertaine : à confier à un microscopiste',
  'count.parasitized': 'Parasitées',
  'count.uninfected': 'Non infectées',
  'word.parasitized': 'parasitée',
  'word.uninfected': 'non infectée',
  'word.toReview': 'à revoir',
  'word.leftOut': 'exclue',
  'word.none': 'aucune',
  'word.share': 'part',
  'word.parasitemia': 'parasitémie',
  'excluded.border': { one: '{n} coupée par le bord', other: '{n} coupées par le bord' },
  'excluded.white': { one: '{n} globule blanc', other: '{n} globules blancs' },
  'excluded.debris': { one: '{n} débris ou plaquette', other: '{n} débris ou plaquettes' },
  'excluded.clump': { one: '{n} amas non séparé', other: '{n} amas non séparés' },

  'alt.notReadable': '{name} : illisible',
  'alt.pending': '{name} : pas encore classée',
  'alt.cell': '{call}, probabilité d’être parasitée {p} : {name}',
  'card.slide': 'Lame {slide}',
  'card.notAnalysed': 'Non analysée',
  'card.notReadable': 'Illisible',
  'card.waitingModel': 'En attente du modèle',
  'card.waiting': 'En attente',
  'card.modelFailed': 'Le modèle n’a pas pu être chargé : réessayez ci-dessus.',
  'card.gaveUp': 'non classée : le modèle n’a pas pu être chargé ({reason})',
  'card.prob': 'P(parasitée) = {p}',
  'card.readAs': 'Lue comme {mode}',
  'card.readAsAuto': 'Lue comme {mode} (automatique)',
  'card.triedAs': 'Essayée comme {mode}',
  'card.rereadField': 'Lire comme champ',
  'card.rereadCell': 'Lire comme cellule',
  'card.rereadLabel': '{button} à nouveau : {name}, comme {mode}',
  'card.rereading': 'Nouvelle lecture de {name} comme {mode}…',
  'error.lead': '{kind}. Message du classificateur (en anglais) :',
  'error.kindStopped': 'Cette image a arrêté le classificateur deux fois',
  'error.kindNotSmear': 'Pas une image de frottis sanguin',
  'error.kindNotCell': 'Pas un globule rouge découpé seul',
  'error.kindGreyscale':
    'Image en niveaux de gris : le modèle a besoin d’une image en couleur (coloration de Giemsa)',
  'error.kindTooLarge': 'Trop grande pour le classificateur',
  'error.kindEmpty': 'Vide ou trop petite',
  'error.kindCorrupt': 'Fichier endommagé ou incomplet',
  'error.kindUnsupported': 'Pas une image prise en charge (PNG, JPEG, BMP ou WebP)',
  'error.kindMemory': 'Mémoire insuffisante sur cet appareil',
  'error.kindOther': 'N’a pas pu être classée',

  'review.cellOf': 'la cellule {index} de {name}',
  'review.groupLabel': 'Votre verdict sur {what}',
  'review.yourCall': 'Votre verdict :',
  'review.reviewed': 'Vérifiée : {call}',
  'review.confirmed': 'Vérifiée : {call} (confirmée)',
  'review.overturned': 'Vérifiée : {call} (infirmée)',
  'review.callLabel': 'Classer {what} : {call}',
  'review.undoLabel': 'Annuler votre verdict sur {what} : {call}',
  'review.keys': '{key} ; C confirme le verdict du modèle, Suppr annule',
  'review.announce': '{who} : votre verdict, {call}.',
  'review.announceUndo': '{who} : votre verdict est annulé.',
  'review.noneYet': 'aucune cellule vérifiée pour l’instant',
  'review.fieldText': {
    one: '{n} cellule vérifiée : {parasitized} parasitées, {uncertain} à revoir ; parasitémie {parasitemia}',
    other:
      '{n} cellules vérifiées : {parasitized} parasitées, {uncertain} à revoir ; parasitémie {parasitemia}',
  },
  'review.after': {
    one: 'Après votre vérification ({n} cellule vérifiée) : {parasitized} parasitées, {uncertain} à revoir, {uninfected} non infectées ; {what} {value}. Selon le modèle : {modelParasitized} parasitées, {modelUncertain} à revoir.',
    other:
      'Après votre vérification ({n} cellules vérifiées) : {parasitized} parasitées, {uncertain} à revoir, {uninfected} non infectées ; {what} {value}. Selon le modèle : {modelParasitized} parasitées, {modelUncertain} à revoir.',
  },

  'cell.title': 'Cellule {index}',
  'cell.text': 'Cellule {index} : {call}, P(parasitée) {p}',
  'cell.cropLabel': 'Cellule {index}, découpée selon son contour',
  'cell.box': 'Cadre {w}×{h} px en {x}, {y}',
  'field.overlayLabel':
    'Globules rouges de {name} : les touches fléchées passent d’une cellule à l’autre',
  'field.alt':
    '{name} : champ entier, {counted} globules rouges comptés, {parasitized} parasités, {uncertain} à revoir',
  'field.counted': 'Globules rouges comptés',
  'field.uncertainRow': 'À revoir (incertains, dans le total)',
  'field.parasitemia': 'Parasitémie',
  'field.afterReview': 'Après vérification',
  'field.hintCells':
    'Cliquez ou touchez une cellule pour la voir ; au clavier, Entrée sur cette carte, puis les flèches.',
  'field.noCells': 'Aucun globule rouge n’a été compté dans cette image.',
  'field.whole': 'Champ entier',
  'field.headSlide': '{name} · lame {slide}',

  'save.full':
    'Le stockage de cet appareil est plein : impossible d’enregistrer {what}. Exportez les sessions dont vous avez besoin, puis supprimez les plus anciennes (Sessions…) pour faire de la place.',
  'save.failed': 'Impossible d’enregistrer {what} : {error}',
  'save.whatResult': 'le résultat de {name}',
  'save.whatResults': {
    one: 'le résultat de {n} image ({name}, …)',
    other: 'les résultats de {n} images ({name}, …)',
  },
  'save.whatReview': 'la vérification de {name}',
  'save.whatSession': 'la session',
  'save.whatNewSession': 'une nouvelle session',
  'save.whatImages': { one: 'l’image ajoutée', other: 'les {n} images ajoutées' },
  'unsaved.text': {
    one: '{why} L’image ajoutée est tout de même classée, mais conservée sur cette page seulement : exportez les résultats avant de la fermer.',
    other:
      '{why} Les {n} images ajoutées sont tout de même classées, mais conservées sur cette page seulement : exportez les résultats avant de la fermer.',
  },
  'storage.unavailable': 'Le stockage n’est pas disponible sur cet appareil.',
  'storage.info': 'Stocké sur cet appareil : {used} Mo sur {quota} Go.',
  'storage.infoPersistent': 'Stocké sur cet appareil : {used} Mo sur {quota} Go (persistant).',
  'store.unavailable':
    'Les résultats ne peuvent pas être conservés sur cet appareil (IndexedDB indisponible : {error}).',
  'footer.local': 'Tout se passe dans ce navigateur : les images ne quittent jamais l’appareil.',
  'footer.version': 'Version du site {version} ; modèle {model}.',

  'report.kind':
    'Rapport de dépistage du paludisme (usage réservé à la recherche et à l’enseignement)',
  'report.noId': '(aucun identifiant)',
  'report.session': 'Session',
  'report.printed': 'Imprimé le',
  'report.operator': 'Opérateur',
  'report.model': 'Modèle',
  'report.modelVersion': '{name} version {version}',
  'report.modelLine': '{model}{arch} ; version du site {site}',
  'report.digest': 'sha256 du fichier du modèle',
  'report.band': 'Zone d’incertitude',
  'report.bandValue': '{lo} < p ≤ {hi} : cellules à revoir, dans le total',
  'report.share': 'Parasitémie ou part (intervalle de Wilson à 95 %)',
  'report.fromFields': { one: '{n} champ entier (modèle)', other: '{n} champs entiers (modèle)' },
  'report.fromCrops': {
    one: '{n} cellule découpée (modèle)',
    other: '{n} cellules découpées (modèle)',
  },
  'report.afterReview': 'après vérification ({n} vérifiées)',
  'report.toReview': 'Cellules à revoir',
  'report.parasitized': 'Cellules parasitées',
  'report.group': '{title} ({n})',
  'report.firstShown': '{title} ({n}) : les {max} premières affichées',
  'report.thumbCell': '{name}, cellule {index}',
  'report.thumb': '{what} : p {p}',
  'report.thumbReviewed': '{what} : p {p}, vérifiée',
  'report.legend':
    'Sous chaque vignette : la probabilité d’être parasitée selon le modèle ; ✓ : vérifiée par le technicien.',
  'report.ready': {
    one: 'Rapport par lame prêt : {n} page, une par lame.',
    other: 'Rapport par lame prêt : {n} pages, une par lame.',
  },

  'modelcard.button': 'Fiche du modèle',
  'mc.does': 'Ce qu’il fait',
  'mc.doesText':
    'Pour chaque globule rouge, il donne la probabilité que la cellule soit parasitée (Plasmodium, sur un frottis mince coloré au Giemsa). Les images de champs entiers sont d’abord découpées en globules rouges ; les globules blancs, les débris, les amas et les cellules coupées par le bord sont exclus et comptés à part.',
  'mc.trained': 'Entraîné sur',
  'mc.split':
    ' ; répartition {split}, de sorte qu’aucune lame n’apparaît dans plus d’un des jeux d’entraînement, de validation et de test',
  'mc.allSlides':
    ' ; ce modèle final a appris de toutes ces lames. Ses chiffres ci-dessous sont ceux de la même recette entraînée sur les seules lames d’entraînement (répartition {split}) et mesurée sur les lames de test mises de côté',
  'mc.accuracy': 'Exactitude mesurée',
  'mc.accuracyText':
    'Sur {n} cellules découpées de lames de test mises de côté : {acc} des verdicts étaient justes',
  'mc.sensitivity': ' ; {x} des cellules parasitées ont été trouvées (sensibilité)',
  'mc.specificity':
    ' ; {x} des cellules non infectées ont été classées non infectées (spécificité)',
  'mc.uncertain':
    ' {x} de ces cellules sont tombées dans la zone d’incertitude (p au-dessus de {lo} et jusqu’à {hi}) et sont « à revoir »',
  'mc.errorOutside': ' ; parmi les autres, {x} ont été mal classées',
  'mc.input': 'Entrée',
  'mc.inputText': 'Chaque cellule est redimensionnée à {s} x {s} pixels pour le réseau',
  'mc.inputSlower':
    ' ({k} fois les pixels d’un modèle 64 x 64 : comptez qu’il soit à peu près autant de fois plus lent)',
  'mc.classes': 'Classes',
  'mc.positive':
    ' ; « {pos} » est la classe parasitée, toute autre classe compte comme non parasitée',
  'mc.limits': 'Limites',
  'mc.limitsText':
    'Les chiffres ci-dessus viennent de cellules découpées du jeu de données public sur lequel il a été entraîné (un seul hôpital, photos prises au smartphone, P. falciparum). Sur des champs entiers d’un autre site et d’un autre microscope (docs/FIELD.md), il a classé environ 1 % des cellules non infectées comme parasitées et placé environ un tiers des cellules dans la zone d’incertitude. Il n’a pas été validé pour d’autres microscopes, colorations ou espèces de Plasmodium, et il ne distingue ni les espèces ni les stades. C’est une aide au dépistage pour la recherche et l’enseignement, ni un diagnostic ni un dispositif médical : un microscopiste revoit chaque résultat, et avant tout les cellules à revoir.',
  'mc.engine': 'moteur',
  'mc.engineValue': {
    one: '{variant}, {n} worker, sur cet appareil',
    other: '{variant}, {n} workers, sur cet appareil',
  },
  'mc.noSimd': 'WebAssembly (sans SIMD)',
  'mc.readFrom': 'modèle lu depuis',
  'mc.localCopy': 'copie locale (ce navigateur, vérifiée)',
  'mc.sha': 'sha256 du modèle',
  'mc.thisCopy': 'Cette copie',
  'mc.raw': 'Métadonnées techniques (telles que stockées dans le fichier du modèle)',

  'export.meta':
    '# export malaria-screen. {notice} Modèle : {model} ; sha256 du fichier : {digest} ; {band} (p = probabilité d’être parasitée ; les cellules dans la zone sont à revoir) ; {operator}{session}exporté : {exported}.',
  'export.unknown': 'inconnu',
  'export.operator': 'opérateur : {name} ; ',
  'export.session': 'session : {session} ; ',
  'export.band': 'zone d’incertitude {lo} < p <= {hi}',
  'export.bandUnknown': 'zone d’incertitude inconnue',

  'widget.drop': 'Déposez ici un champ ou l’image d’une cellule, ou',
  'widget.choose': 'Choisir une image',
  'widget.notice':
    'Aide au dépistage pour la recherche et l’enseignement uniquement, pas un diagnostic. Les résultats incertains doivent être revus par un microscopiste.',
  'widget.loading': 'Chargement du modèle…',
  'widget.ready': 'Prêt.',
  'widget.classifying': 'Classement de {name}…',
  'widget.inBand': 'Dans la zone d’incertitude : à revoir, pas de verdict',
  'widget.statusCell': '{name} : {call}, P(parasitée) {p}.',
  'widget.counts':
    '{counted} globules rouges comptés, {parasitized} parasités, {uncertain} à revoir',
  'widget.fieldAlt': 'Champ entier : {counts} : {name}',
  'widget.parasitemia': 'Parasitémie {text}',
  'widget.statusField': '{name} : champ entier, {counts}.',
  'widget.heatComputing': 'Calcul de la carte de chaleur…',
  'widget.heatDrawn':
    '{name} : carte de chaleur tracée (là où masquer la cellule abaisse P(parasitée)).',
  'grid.help':
    'Les résultats forment un seul arrêt pour la touche Tab : les flèches passent d’une carte à l’autre, Début et Fin vont à la première et à la dernière, Entrée entre dans une carte et Échap en ressort ; P, U, C et Suppr vérifient la carte active.',
  'net.offlineStored':
    'Hors ligne : cette page et son modèle sont stockés sur cet appareil, le dépistage continue donc sans réseau.',
  'net.offlineNotStored':
    'Hors ligne : le dépistage continue tant que cette page reste ouverte, mais elle n’est pas encore stockée pour un usage hors ligne : ne la rechargez pas avant le retour du réseau.',
  'model.download': 'Téléchargement du modèle',
  'model.downloading': 'Téléchargement du modèle : {loaded} sur {total} Mo',
  'model.downloadingSoFar': 'Téléchargement du modèle : {loaded} Mo',
  'model.downloaded': 'Modèle téléchargé : {n} octets.',
  'model.fromCopy':
    'Modèle lu depuis la copie de cet appareil ({n} octets) : rien n’a été téléchargé.',
  'notices.label': 'Avis',
  'input.dropTitleTouch': 'Photographiez un champ ou choisissez des images',
  'input.paste': ' Vous pouvez aussi coller une image (Ctrl+V).',
  'embed.refused':
    'Ce classificateur ne répond pas aux pages de {origin} : cette origine ne figure pas dans allowedOrigins du fichier embed-config.json du site de dépistage (web/serve.mjs : --allow-embed ORIGINE).',
  'embed.opaque':
    'Ce classificateur ne fonctionne pas ici : son cadre n’a pas d’origine propre (une iframe sandbox sans allow-same-origin, ou une page ouverte depuis un fichier), il ne peut donc pas savoir quelles pages peuvent l’utiliser. Intégrez-le depuis l’adresse https:// du site de dépistage, et ne le mettez en sandbox qu’avec allow-same-origin.',
  'widget.dropTouch': 'Une photo d’un champ ou d’une cellule :',
  'widget.file': 'Fichier : {name}',
  'report.landmark': 'Rapports par lame',
};
