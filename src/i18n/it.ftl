## I messaggi di Ponte in italiano. Ogni id deve esistere anche in en.ftl.

## Nomi delle parti e degli stati, usati come argomenti di altri messaggi.
side-internal = IT interno
side-msp = MSP
status-new = nuovo
status-claimed = preso in carico
status-in_progress = in lavorazione
status-waiting_on_requester = in attesa del richiedente
status-waiting_on_other_side = in attesa dell'altra parte
status-resolved = risolto
status-closed = chiuso
status-cancelled = annullato

## Rifiuti e input errati: dire cosa non va e cosa fare.

error-bad-task-id = “{ $input }” non è un identificativo di attività. Gli identificativi sono come ACME-42.
error-bad-priority = “{ $input }” non è una priorità. Usa P1 (la più urgente), P2, P3 o P4.
error-bad-status = “{ $input }” non è uno stato. Usa uno di: in lavorazione, in attesa del richiedente, in attesa dell'altra parte, risolto.
error-bad-side = “{ $input }” non è una parte. Usa internal (l'IT dell'azienda) o msp.
error-assignee-missing = Indica a chi assegnare l'attività.
error-unknown-server = Ponte non è configurato per questo server. Chiedi all'amministratore di aggiungerlo alla configurazione di Ponte.
error-use-in-server = Usa questo comando nel server della tua azienda, non in un messaggio diretto.
error-client-needed = Questo canale non appartiene a nessun cliente. Usa il comando nel canale del cliente.
error-client-option-needed = Questo canale raccoglie il lavoro di tutti i clienti: indica il cliente con `cliente:` (uno tra { $clients }).
error-unknown-category = Non esiste la categoria “{ $input }”. Categorie note: { $known }.
error-unknown-task = Non c'è nessuna attività { $id } che tu possa vedere. Controlla l'identificativo con /task list.
error-not-for-client = Non agisci per questa azienda, quindi non puoi aprirne né elencarne le attività. Chiedi al tuo responsabile IT il ruolo giusto.
error-title-empty = Il titolo è vuoto. Scrivi in poche parole di cosa hai bisogno.
error-title-too-long = Il titolo ha { $len } caratteri; il massimo è { $max }. Metti il resto nei dettagli.
error-details-too-long = I dettagli hanno { $len } caratteri; il massimo è { $max }. Accorciali o allega un file.
error-comment-empty = Il commento è vuoto.
error-comment-too-long = Il commento ha { $len } caratteri; il massimo è { $max }. Dividilo in due.
error-reason-required = Indica un motivo, per favore.
error-reason-too-long = Il motivo ha { $len } caratteri; il massimo è { $max }.
error-due-in-past = La scadenza è nel passato. Scegli un momento da adesso in poi.
error-bad-due = “{ $input }” non è una scadenza. Scrivila come 2026-12-03 o 2026-12-03 17:00 (oppure 3/12/2026), nel fuso orario della tua azienda.
error-not-staff-of = Può farlo solo il personale della parte che ha in mano l'attività ({ $side }).
error-not-requester-or-staff = Solo il richiedente, il responsabile IT o chi gestisce l'attività può farlo.
error-only-it-manager = Solo il responsabile IT può approvare o rifiutare lavori nel territorio dell'azienda.
error-note-not-your-side = Le note interne di una parte ({ $side }) possono essere scritte solo dal suo personale.
error-already-claimed = L'attività è già stata presa in carico da qualcun altro (<@{ $by }>). Chiedi a lui, o al responsabile della sua parte, di passartela.
error-not-assignee = Solo chi ha preso in carico l'attività, o il responsabile della sua parte, può rilasciarla.
error-not-claimable = Un'attività { $status } non può essere presa in carico.
error-no-such-transition = Un'attività non può passare da { $from } a { $to }.
error-task-finished = Questa attività è { $status }: non può più cambiare. Apri una nuova richiesta se serve altro.
error-cannot-reopen = Si può riaprire solo un'attività risolta; questa è { $status }.
error-awaiting-approval = L'MSP non può iniziare né chiudere questa attività prima dell'approvazione del responsabile IT.
error-approval-refused = Il responsabile IT ha rifiutato questo lavoro: { $reason }. Restituisci l'attività o chiedi di nuovo al responsabile IT.
error-no-approval-pending = Nessuna approvazione in sospeso per questa attività.
error-assignee-not-on-side = L'assegnatario deve far parte del personale della parte incaricata ({ $side }) per questa azienda.
error-unchanged = Niente da cambiare: l'attività è già così.
error-internal = Qualcosa è andato storto da parte nostra, non per colpa tua. Comunica { $reference } al tuo amministratore.

## Il testo adattato ai limiti di Discord finisce così.
text-cut = … (tagliato)

## Schede delle attività.
card-status = Stato
card-whose-move = A chi tocca
card-priority = Priorità
card-category = Categoria
card-assignee = Assegnatario
card-requester = Richiedente
card-due = Scadenza
card-routing = Perché è andata lì
card-approval = Approvazione del responsabile IT
card-none = nessuna
card-nobody-yet = ancora nessuno
card-move-requester = al richiedente
card-move-nobody = a nessuno: conclusa
card-approval-pending = in attesa: l'MSP non può iniziare finché il responsabile IT non approva
card-approval-granted = approvata da { $by }
card-approval-refused = rifiutata da { $by }: { $reason }

button-claim = Prendi in carico
button-resolve = Risolvi
button-reopen = Riapri

## Perché un'attività è andata dove è andata.
route-requested = il richiedente ha chiesto l'{ $side }
route-keyword = “{ $keyword }” indica { $category }, di cui si occupa l'{ $side }
route-category = della categoria { $category } si occupa l'{ $side }
route-from-msp = l'MSP ha chiesto all'IT dell'azienda
route-default = nessuna regola corrisponde, quindi è andata all'{ $side } (il predefinito)
route-monitoring = l'integrazione di monitoraggio { $source } invia i suoi allarmi all'{ $side }, come da configurazione

approval-why-category = i lavori di { $category } richiedono l'approvazione del responsabile IT
approval-why-territory = { $category } è territorio dell'IT dell'azienda

## Righe della storia di un'attività, pubblicate nel suo thread.
event-created = { $who } ha chiesto: **{ $title }**
event-routed = Inviata all'{ $side }: { $reason }.
event-claimed = { $who } ha preso in carico l'attività.
event-acknowledged = { $who } ha confermato la presa visione: le chiamate si fermano.
event-unclaimed = { $who } ha rilasciato l'attività.
event-assigned = { $who } ha assegnato l'attività a { $to }.
event-commented = { $who }: { $body }
event-noted = 🔒 { $who } (nota interna): { $body }
event-status-changed = { $who }: { $from } → **{ $to }**.
event-priority-changed = { $who } ha cambiato la priorità: { $from } → **{ $to }**.
event-due-changed = { $who } ha impostato la scadenza: { $due }.
event-retitled = { $who } ha rinominato l'attività: **{ $title }**
event-handed-off = { $who } ha passato l'attività all'**{ $side }**.
event-approval-requested = In attesa del responsabile IT: { $why }.
event-approval-granted = ✅ { $who } ha approvato il lavoro.
event-approval-refused = ⛔ { $who } ha rifiutato il lavoro: { $reason }
event-reopened = { $who } ha riaperto l'attività.

event-reason = Motivo: { $reason }

## Elenchi.
list-empty = Niente qui.
list-line = **{ $id }** { $title } · { $priority } · { $status } · tocca a: { $move }
card-history = Ultimi eventi

## Risposte.
task-created = Creata **{ $id }** ({ $priority }), inviata all'{ $side }: { $reason }. Seguila nel suo thread.
task-created-needs-approval = L'MSP inizierà quando il responsabile IT l'avrà approvata.
task-unchanged-replay = { $id }: già fatto.
list-title = Attività aperte di { $client }
mine-title = Le tue attività aperte
mine-your-move = Tocca a te ({ $count })
mine-your-requests = Le tue richieste ({ $count })
mine-assigned = Assegnate a te, in attesa di altri ({ $count })
mine-more = …e altre { $count }
form-request-title = Chiedi aiuto
form-request-field-title = Di cosa hai bisogno?
form-request-field-details = Dettagli (dove, da quando, chi è coinvolto)
help = **Ponte** trasforma le richieste in attività che l'IT dell'azienda e l'MSP possono seguire.
    • `/richiesta` chiede qualcosa (lascia vuoto il titolo per un modulo); Ponte la instrada e dice perché.
    • "Traccia come attività" su un messaggio (tasto destro → App) lo trasforma in richiesta.
    • `@Ponte` seguito da una richiesta a parole, o un messaggio diretto a Ponte, mostra la bozza che ha capito; non crea nulla finché non premi Crea.
    • `/attivita mostra|elenco|prendi|assegna|stato|commenta|nota|passa|chiudi|riapri|annulla|sollecita` lavora su un'attività, es. `/attivita prendi id:ACME-42`; `/attivita sollecita` chiama subito il reperibile dell'MSP.
    • `/attivita nota` è una nota interna: la vede solo la tua parte.
    • `/mie` elenca le attività aperte assegnate a te.
    • `/riepilogo anteprima` mostra ora il riepilogo della tua parte; `/riepilogo iscriviti` ti manda il tuo in messaggio diretto ogni mattina lavorativa (`/riepilogo disiscriviti` per smettere).
    • `/sla rapporto [cliente] [periodo]` mostra i tempi di risposta e di risoluzione rispetto al contratto (periodo: 7d, 30d, this-month, last-month o 2026-11-01..2026-11-15).
    • `/reperibilita adesso|turni|sostituzione` mostra chi è reperibile e i turni; il responsabile dell'MSP mette qualcuno in reperibilità con `sostituzione`.
    • `/manutenzione inizia|termina` apre o chiude una finestra di manutenzione: nessuna chiamata per la tua azienda finché dura.

## Richieste scritte a parole: la bozza da confermare.
draft-intro = Ecco cosa ho capito. Non creo nulla finché non premi Crea.
draft-title = Richiesta: { $title }
draft-side = Va a
draft-priority = Priorità
draft-category = Categoria
draft-due = Scadenza
draft-why = Perché
draft-cancelled = Annullata: non è stato creato nulla.
button-create = Crea
button-other-side = Invia all'altra parte
button-priority = Cambia priorità
button-cancel = Annulla
draft-reason-cue = “{ $typed }” → { $priority }
draft-reason-scope = “{ $phrase }” (chi è coinvolto) → { $priority }
draft-reason-category-priority = { $category } è { $priority } per impostazione
draft-reason-default-priority = nessun indizio: { $priority } per impostazione
draft-reason-due = “{ $phrase }” → scadenza { $due }
draft-reason-side = “{ $phrase }” → { $side }
draft-reason-side-conflict = nominate entrambe le parti (“{ $msp }”, “{ $internal }”): decidono le regole
draft-reason-mention = { $user } proposto come assegnatario
draft-reason-chosen = hai scelto l'{ $side }
error-not-your-draft = Solo chi ha fatto la richiesta può confermare o cambiare questa bozza.
error-draft-expired = Questa bozza è scaduta. Menzionami di nuovo con la tua richiesta.
error-draft-gone = Il messaggio da cui è nata questa bozza non c'è più. Menzionami di nuovo con la tua richiesta.

## Il territorio dell'azienda: approvazioni
approval-why-proposal = l'MSP propone questa modifica
approval-card-intro = 🛂 Serve la decisione del responsabile IT.
approval-card-intro-thread = 🛂 Serve la decisione del responsabile IT. La conversazione: { $thread }
approval-card-why = Perché serve l'approvazione
button-approve = Approva
button-refuse = Rifiuta
refuse-form-title = Rifiuta { $id }
refuse-form-reason = Perché? (lo leggeranno entrambe le parti)
approval-card-decided = 🛂 Il responsabile IT ha deciso.

## Il ponte tra i thread delle due parti
event-said = 💬 { $author } ({ $side }): { $body }
event-said-note = 🔒 { $author } ({ $side }, nota interna): { $body }
event-said-edited = ✏️ { $who } ha modificato un messaggio: { $body }
relay-line = **{ $author }** · { $side }: { $body }
relay-edited = **{ $author }** · { $side } (modificato): { $body }

## Richieste in messaggio diretto
error-dm-unknown-person = Non so per quale azienda lavori: non sei in nessuno dei server che seguo. Chiedi al tuo IT di aggiungerti al server della tua azienda, poi scrivimi di nuovo.
error-dm-from-msp = Le persone dell'MSP chiedono dal canale del cliente: menzionami lì (o usa /request), così so per quale azienda è.
error-dm-several-clients = Sei nei server di più aziende ({ $clients }), quindi non capisco per quale sia. Menzionami invece nel canale delle richieste di quell'azienda.

## Segnalazioni doppie
event-reporter-added = { $who } segnala lo stesso problema e segue questa attività.
draft-duplicate = Già segnalato?
draft-duplicate-value = Sembra **{ $id }** “{ $title }”, aperta <t:{ $since }:R>. Unisciti per seguirla, oppure crea comunque una nuova attività.
button-join = Unisciti all'attività esistente
button-create-anyway = Crea comunque
draft-joined = Ora segui **{ $id }** tra chi l'ha segnalata: nel suo thread trovi le novità.
## Reperibilità ed escalation (issue 5)
event-paged = Chiamata a { $target } (passo { $step }).
event-paged-late = Chiamata a { $target } (passo { $step }, in ritardo: Ponte non ha potuto chiamare in tempo).
event-page-failed = Una chiamata non è stata recapitata ({ $reason }): si passa subito al livello di escalation successivo.
event-alert-fired = 🚨 Allarme da **{ $source }** (gravità { $severity }).
event-alert-storm = 🚨 Raffica di allarmi da **{ $source }**: gli altri allarmi del gruppo `{ $group }` confluiscono in questa attività invece di aprirne di nuove (gravità { $severity }).
event-alert-repeated = L'allarme è scattato di nuovo in { $source }.
event-alert-folded = Altri { $count } allarmi confluiti in questa attività; l'ultimo: **{ $title }**
event-alert-resolved = ✅ L'allarme è rientrato in { $source }; l'attività resta aperta, perché qualcuno ci sta lavorando.
event-alert-resolved-some = ✅ Un allarme è rientrato in { $source }; { $firing } ancora attivi.
event-alert-resolved-task = ✅ L'allarme è rientrato in { $source } e nessuno aveva lavorato all'attività: è risolta.
event-heartbeat-resolved-task = ✅ `{ $name }` ha dato di nuovo segno di vita: l'attività è risolta.
event-heartbeat-resolved = ✅ `{ $name }` ha dato di nuovo segno di vita.
alert-details-source = Fonte: { $source }
alert-details-severity = Gravità: { $severity }
alert-details-started = Iniziato: { $at }
heartbeat-missed-title = Heartbeat mancato: { $name }
heartbeat-missed-details = `{ $name }` dovrebbe farsi sentire ogni { $every } (con { $grace } di tolleranza); l'ultima volta è stata { $last }. Il prossimo segnale risolve questa attività.
event-snoozed = { $who } ha rimandato le chiamate fino alle { $until }.
page-target-oncall = { $who } (reperibile in { $schedule })
page-target-nobody = nessuno (nessun reperibile in { $schedule })
page-target-pager = il cercapersone { $pager }
page-text = Chiamata: { $task } ({ $priority }) aspetta l'MSP: { $title }. Conferma per fermare l'escalation.
page-text-late = Chiamata in ritardo (Ponte non ha potuto chiamare in tempo): { $task } ({ $priority }) aspetta l'MSP: { $title }. Conferma per fermare l'escalation.
page-dm-refused = ⚠ Impossibile chiamare { $person } in messaggio diretto (non accetta DM da Ponte): la chiamata va qui, e al livello di escalation successivo subito. Chiedete di consentire i messaggi diretti da questo server.
page-pager-unreachable = ⚠ Il cercapersone esterno { $pager } non è raggiungibile: la chiamata arriva qui.
button-acknowledge = Conferma
button-snooze = Rimanda di 15 min
oncall-none = Non ci sono turni di reperibilità configurati.
oncall-now-title = Reperibili adesso:
oncall-now-line = { $schedule }: { $who } fino al { $until }
oncall-schedule-title = Turni di reperibilità delle prossime due settimane:
oncall-shift-line = { $from } – { $to }: { $who }
maintenance-started = Manutenzione per { $client } fino al { $until }: fino ad allora nessuna chiamata per le sue attività.
maintenance-ended = Manutenzione per { $client } terminata il { $until }: le attività urgenti tornano a chiamare.
maintenance-none = { $client } non ha finestre di manutenzione aperte adesso.
handover-title = Cambio turno di reperibilità in { $schedule }: { $to } subentra a { $from }.
handover-no-tasks = Nessuna attività urgente aperta.
handover-tasks = Attività urgenti aperte: { $tasks }
error-escalate-limit = Un'attività si può sollecitare al massimo { $max } volte, a { $minutes } minuti di distanza: l'MSP è già stato avvisato.
error-not-requester-or-manager = Solo chi ha fatto la richiesta o il responsabile IT possono sollecitare un'attività.
event-escalated = { $who } ha sollecitato l'attività: { $reason }. Chiamata a { $target }.
escalated-reply = Sollecito per { $task } inviato: { $target } è stato chiamato.
oncall-override-done = { $who } è reperibile in { $schedule } dal { $from } al { $to }.
error-only-msp-lead = Solo un responsabile dell'MSP può farlo.
# Digest (issue 6)
digest-title = **Riepilogo di { $client }: { $side }** · { $date }
digest-late = ⏰ In ritardo: questo riepilogo era previsto per { $due }, mentre Ponte era fermo.
digest-empty = Niente di nuovo, niente di aperto.
digest-new = **Nuove dall'ultimo riepilogo ({ $count })**
digest-closed = **Chiuse dall'ultimo riepilogo ({ $count })**
digest-open-yours = **Aperte, tocca a voi ({ $count })**
digest-open-side = **Aperte, in attesa dell'altra parte: { $side } ({ $count })**
digest-open-requester = **Aperte, in attesa del richiedente ({ $count })**
digest-breached = **SLA superato ({ $count })**
digest-at-risk = **SLA a rischio ({ $count })**
digest-escalations = **Escalation prese in carico ({ $count })**
digest-approvals = **Approvazioni in attesa ({ $count })**
digest-waiting = **In attesa di voi**
digest-waiting-person = { $who }: { $tasks }
digest-waiting-nobody = non ancora assegnate: { $tasks }
digest-task = • `{ $id }` { $priority } { $title } · { $status } · { $age }
digest-task-assignee = {" "}· { $who }
digest-task-comment = {" "}· «{ $comment }»
digest-sla-first-response = • `{ $id }` { $priority } { $title } · prima risposta al { $percent }%
digest-sla-resolution = • `{ $id }` { $priority } { $title } · risoluzione al { $percent }%
digest-sla-at = {" "}· scadenza { $when }
digest-age-days = { $days }g { $hours }h
digest-age-hours = { $hours }h { $minutes }m
digest-age-minutes = { $minutes }m
digest-lead-title = **Riepilogo MSP, { $count } clienti** · { $date }
digest-lead-client = __**{ $client }**__: { $open } aperte, { $breached } con SLA superato
digest-preview-more = … e altri { $count } messaggi nel riepilogo pubblicato.

## Riepiloghi personali in messaggio diretto (/riepilogo iscriviti) e il grafico del riepilogo.
digest-subscribed = Iscrizione fatta: ogni mattina lavorativa, all'ora del riepilogo, ti manderò in messaggio diretto ciò che aspetta te. `/riepilogo disiscriviti` per smettere.
digest-already-subscribed = L'iscrizione al riepilogo personale è già attiva.
digest-unsubscribed = Iscrizione annullata: niente più riepiloghi personali in messaggio diretto.
digest-not-subscribed = Non risulta nessuna iscrizione al riepilogo personale: non c'era nulla da annullare.
digest-personal-title = **Il tuo riepilogo** · { $date }
digest-personal-empty = Non c'è nulla che aspetti te.
digest-personal-your-move = **Tocca a te ({ $count })**
digest-personal-your-requests = **Tue richieste in attesa di una tua risposta ({ $count })**
digest-personal-assigned = **Assegnate a te, in attesa di altri ({ $count })**
digest-personal-sla-ok = {" "}· SLA { $percent }%
digest-personal-sla-at-risk = {" "}· ⚠️ SLA a rischio, { $percent }%
digest-personal-sla-breached = {" "}· 🔴 SLA superato, { $percent }%
digest-personal-footer = _`/riepilogo disiscriviti` per non ricevere più questi messaggi._
digest-chart-legend = 📊 Il grafico: gli ultimi 14 giorni, una colonna al giorno. Barre sopra la linea: attività aperte; sotto: attività chiuse; blu per l'IT interno, arancione per l'MSP. Linea verde: la quota di attività risolte entro lo SLA (in alto = 100%).
# Avvisi e superamenti SLA (issue 6)
sla-clock-first-response = prima risposta
sla-clock-resolution = risoluzione
event-sla-warned = ⏳ Avviso SLA ({ $side }): la { $clock } ha consumato il { $percent }% del tempo previsto ({ $target }).
event-sla-breach-at = Se nulla cambia, scade: { $when }.
event-sla-breached = 🚨 SLA superato ({ $side }): la { $clock } ha oltrepassato il tempo previsto ({ $target }).
# /sla rapporto (issue 6)
sla-report-title = **Rapporto SLA di { $client }** · { $from } → { $to } · attività aperte nel periodo
sla-report-empty = Nessuna attività aperta in questo periodo.
sla-report-unreadable = { $count } attività illeggibili sono escluse.
sla-report-row = **{ $side } · { $priority }**: { $tasks } attività
sla-report-first = {"  "}prima risposta: mediana { $median }, p90 { $p90 }, { $within } entro i tempi ({ $measured } con risposta)
sla-report-resolution = {"  "}risoluzione: mediana { $median }, p90 { $p90 }, { $within } entro i tempi ({ $measured } risolte)
sla-report-breached = {"    "}sforati: { $breached }, di cui ancora in corso: { $open } (contati con il tempo finora)
sla-report-waiting = {"  "}in attesa dell'altra parte { $other }, del richiedente { $requester }
sla-report-more = … e altre { $count } righe: `ponte report` dà il rapporto completo.
error-bad-period = “{ $input }” non è un periodo. Usa per esempio 7d, 30d, this-month, last-month o 2026-11-01..2026-11-15.
error-period-length = Un periodo va da 1 a { $max } giorni.
error-report-other-client = Puoi vedere solo il rapporto della tua azienda: togli l'opzione cliente.
error-unknown-client = Non c'è nessun cliente “{ $input }”. Usa la sigla del cliente, es. ACME.
error-report-staff-only = I rapporti SLA sono per lo staff IT dell'azienda e per l'MSP.

## Delivery notices (issue 17)
notice-permission = ⚠ Ponte non ha i permessi per lavorare in { $channel } (id canale { $id }): date al ruolo di Ponte Visualizza canale, Invia messaggi, Invia messaggi nei thread, Crea thread pubblici, Incorpora link, Allega file e Leggi la cronologia dei messaggi in quel canale. `ponte doctor` elenca cosa manca. Ciò che non è stato recapitato è conservato: `ponte outbox list`, poi `ponte outbox retry`.
notice-thread-closed = ⚠ Ponte non può scrivere nel thread { $channel } (id { $id }): è archiviato o bloccato. Riapritelo o sbloccatelo per Ponte. Ciò che non è stato recapitato è conservato: `ponte outbox list`, poi `ponte outbox retry`.
notice-channel-type = ⚠ Ponte non può aprire un thread in { $channel } (id { $id }): quel tipo di canale non ha thread. L'attività prosegue nel canale delle richieste.
notice-gone = ⚠ Ponte non può scrivere in { $channel } (id { $id }): quel canale, thread o messaggio non esiste più. Se è stato eliminato di proposito, scartate ciò che attende (`ponte outbox list`, poi `ponte outbox drop`); se era un canale configurato, mettete il nuovo nella configurazione.
answer-late-form = Spiacente, il modulo ci ha messo troppo ad aprirsi. Riprova.

# The MSP's queue channel: a task that becomes the MSP's (issue 19).
queue-new-task = 🆕 **{ $id }** · { $priority } · { $client }: { $title }
queue-list-title = Tutti i clienti: tocca a { $side }

# Ruoli e canali di un altro server, per nome (issue 19).
place-msp-engineers = i tecnici di { $msp }
place-msp-leads = i responsabili di { $msp }
place-msp-queue = il canale della coda di { $msp }
place-it-managers = i responsabili IT di { $client }
place-it-technicians = i tecnici IT di { $client }
place-requests = il canale delle richieste di { $client }
place-internal-it = il canale dell'IT interno di { $client }
place-msp-channel = il canale dell'MSP per { $client }
