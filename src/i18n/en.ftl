## Ponte's English messages. Every id here must exist in it.ftl too.

## Names of sides and statuses, used as arguments of other messages.
side-internal = internal IT
side-msp = the MSP
status-new = new
status-claimed = claimed
status-in_progress = in progress
status-waiting_on_requester = waiting on the requester
status-waiting_on_other_side = waiting on the other side
status-resolved = resolved
status-closed = closed
status-cancelled = cancelled

## Refusals and bad input: say what is wrong and what to do instead.

error-bad-task-id = “{ $input }” is not a task id. Task ids look like ACME-42.
error-bad-priority = “{ $input }” is not a priority. Use P1 (most urgent), P2, P3 or P4.
error-bad-status = “{ $input }” is not a status. Use one of: in progress, waiting on requester, waiting on other side, resolved.
error-bad-side = “{ $input }” is not a side. Use internal (the company's IT) or msp.
error-assignee-missing = Say whom to assign the task to.
error-unknown-server = Ponte is not set up for this server. Ask your administrator to add it to Ponte's configuration.
error-use-in-server = Please use this command in your company's server, not in a direct message.
error-client-needed = This channel belongs to no client. Run the command in the client's channel.
error-client-option-needed = This channel holds every client's work: name the client with `client:` (one of { $clients }).
error-unknown-category = There is no category “{ $input }”. Known categories: { $known }.
error-unknown-task = There is no task { $id } that you can see. Check the id with /task list.
error-not-for-client = You don't act for this company, so you can't file or list its tasks. Ask your IT manager to give you the right role.
error-title-empty = The title is empty. Write a few words that say what you need.
error-title-too-long = The title has { $len } characters; the most is { $max }. Put the rest in the details.
error-details-too-long = The details have { $len } characters; the most is { $max }. Shorten them or attach a file.
error-comment-empty = The comment is empty.
error-comment-too-long = The comment has { $len } characters; the most is { $max }. Split it in two.
error-reason-required = Please give a reason.
error-reason-too-long = The reason has { $len } characters; the most is { $max }.
error-due-in-past = The due time is in the past. Pick a time from now on.
error-bad-due = “{ $input }” is not a due date. Write it as 2026-12-03 or 2026-12-03 17:00 (or 3/12/2026), in your company's time zone.
error-not-staff-of = Only { $side } staff can do this, because the task is in their hands.
error-not-requester-or-staff = Only the requester, the IT manager or the staff handling the task can do this.
error-only-it-manager = Only the IT manager can approve or refuse work on the company's territory.
error-note-not-your-side = Internal notes of { $side } can only be written by { $side } staff.
error-already-claimed = Someone else (<@{ $by }>) already claimed this task. Ask them, or the lead of their side, to hand it over.
error-not-assignee = Only the person who claimed the task, or the lead of their side, can release it.
error-not-claimable = A task that is { $status } can't be claimed.
error-no-such-transition = A task can't go from { $from } to { $to }.
error-task-finished = This task is { $status }: nothing more can change. Open a new request if you need more.
error-cannot-reopen = Only a resolved task can be reopened; this one is { $status }.
error-awaiting-approval = The MSP can't start or finish this task before the IT manager approves it.
error-approval-refused = The IT manager refused this work: { $reason }. Hand the task back or ask the IT manager again.
error-no-approval-pending = No approval is pending on this task.
error-assignee-not-on-side = The assignee must be { $side } staff of this company.
error-unchanged = Nothing to change: the task is already like that.
error-internal = Something went wrong on our side; nothing you did. Quote { $reference } to your administrator.

## Text fitted to Discord's limits ends with this.
text-cut = … (cut)

## Task cards.
card-status = Status
card-whose-move = Whose move
card-priority = Priority
card-category = Category
card-assignee = Assignee
card-requester = Requester
card-due = Due
card-routing = Why it went there
card-approval = IT manager's approval
card-none = none
card-nobody-yet = nobody yet
card-move-requester = the requester
card-move-nobody = nobody: finished
card-approval-pending = waiting: the MSP can't start until the IT manager approves
card-approval-granted = approved by { $by }
card-approval-refused = refused by { $by }: { $reason }

button-claim = Claim
button-resolve = Resolve
button-reopen = Reopen

## Why a task went where it went.
route-requested = the requester asked for { $side }
route-keyword = “{ $keyword }” means { $category }, which { $side } handles
route-category = the category { $category } is handled by { $side }
route-from-msp = the MSP asked the company's IT
route-default = no rule matched, so it went to { $side } (the default)
route-monitoring = the monitoring integration { $source } sends its alerts to { $side }, as configured

approval-why-category = { $category } work needs the IT manager's approval
approval-why-territory = { $category } is the company IT's territory

## Lines of a task's history, posted in its thread.
event-created = { $who } asked: **{ $title }**
event-routed = Sent to { $side }: { $reason }.
event-claimed = { $who } claimed the task.
event-acknowledged = { $who } acknowledged the task: paging stops.
event-unclaimed = { $who } released the task.
event-assigned = { $who } assigned the task to { $to }.
event-commented = { $who }: { $body }
event-noted = 🔒 { $who } (internal note): { $body }
event-status-changed = { $who }: { $from } → **{ $to }**.
event-priority-changed = { $who } changed the priority: { $from } → **{ $to }**.
event-due-changed = { $who } set the due time: { $due }.
event-retitled = { $who } renamed the task: **{ $title }**
event-handed-off = { $who } handed the task to **{ $side }**.
event-approval-requested = Waiting for the IT manager: { $why }.
event-approval-granted = ✅ { $who } approved the work.
event-approval-refused = ⛔ { $who } refused the work: { $reason }
event-reopened = { $who } reopened the task.

event-reason = Reason: { $reason }

## Lists.
list-empty = Nothing here.
list-line = **{ $id }** { $title } · { $priority } · { $status } · move: { $move }
card-history = Latest

## Answers.
task-created = Created **{ $id }** ({ $priority }), sent to { $side }: { $reason }. Follow it in its thread.
task-created-needs-approval = The MSP will start once the IT manager approves it.
task-unchanged-replay = { $id }: already done.
list-title = Open tasks of { $client }
mine-title = Your open tasks
mine-your-move = Your move ({ $count })
mine-your-requests = Your requests ({ $count })
mine-assigned = Assigned to you, waiting on others ({ $count })
mine-more = …and { $count } more
form-request-title = Ask for help
form-request-field-title = What do you need?
form-request-field-details = Details (where, since when, who is affected)
help = **Ponte** turns requests into tasks that both the company's IT and the MSP can follow.
    • `/request` asks for something (leave the title empty for a form); Ponte routes it and says why.
    • "Track as task" on any message (right click → Apps) turns it into a request.
    • `@Ponte` followed by a request in plain words, or a direct message to Ponte, shows the draft it understood; nothing is created until you press Create.
    • `/task show|list|claim|assign|status|comment|note|handoff|close|reopen|cancel|escalate` works on a task, e.g. `/task claim id:ACME-42`; `/task escalate` pages the MSP's on-call now.
    • `/task note` is an internal note: only your side sees it.
    • `/mine` lists the open tasks assigned to you.
    • `/digest preview` shows your side's digest now; `/digest subscribe` sends you your own by direct message each working morning (`/digest unsubscribe` stops it).
    • `/sla report [client] [period]` shows response and resolution times against the contract (period: 7d, 30d, this-month, last-month or 2026-11-01..2026-11-15).
    • `/oncall now|schedule|override` shows who is on call and the shifts; the MSP lead puts someone on call with `override`.
    • `/maintenance start|end` opens or closes a maintenance window: no paging for your company while it lasts.

## Requests written in plain words: the draft to confirm.
draft-intro = Here is what I understood. Nothing is created until you press Create.
draft-title = Request: { $title }
draft-side = Goes to
draft-priority = Priority
draft-category = Category
draft-due = Due
draft-why = Why
draft-cancelled = Cancelled: nothing was created.
button-create = Create
button-other-side = Send to the other side
button-priority = Change priority
button-cancel = Cancel
draft-reason-cue = “{ $typed }” → { $priority }
draft-reason-scope = “{ $phrase }” (who is affected) → { $priority }
draft-reason-category-priority = { $category } is { $priority } by default
draft-reason-default-priority = no cue: { $priority } by default
draft-reason-due = “{ $phrase }” → due { $due }
draft-reason-side = “{ $phrase }” → { $side }
draft-reason-side-conflict = both sides named (“{ $msp }”, “{ $internal }”): the rules decide
draft-reason-mention = { $user } proposed as assignee
draft-reason-chosen = you chose { $side }
error-not-your-draft = Only the person who asked can confirm or change this draft.
error-draft-expired = This draft has expired. Mention me again with your request.
error-draft-gone = The message this draft was made from is gone. Mention me again with your request.

## The company's territory: approvals
approval-why-proposal = the MSP proposes this change
approval-card-intro = 🛂 The IT manager's decision is needed.
approval-card-intro-thread = 🛂 The IT manager's decision is needed. The conversation: { $thread }
approval-card-why = Why it needs approval
button-approve = Approve
button-refuse = Refuse
refuse-form-title = Refuse { $id }
refuse-form-reason = Why? (both sides will read it)
approval-card-decided = 🛂 The IT manager has decided.

## The bridge between the two sides' threads
event-said = 💬 { $author } ({ $side }): { $body }
event-said-note = 🔒 { $author } ({ $side }, internal note): { $body }
event-said-edited = ✏️ { $who } edited a message: { $body }
relay-line = **{ $author }** · { $side }: { $body }
relay-edited = **{ $author }** · { $side } (edited): { $body }

## Requests by DM
error-dm-unknown-person = I don't know which company you work for: you are in none of the servers I serve. Ask your IT team to add you to your company's server, then write to me again.
error-dm-from-msp = The MSP's people ask from the client's channel: mention me there (or use /request), so I know which company it is for.
error-dm-several-clients = You are in the servers of several companies ({ $clients }), so I can't tell which one this is for. Mention me in that company's requests channel instead.

## Duplicate reports
event-reporter-added = { $who } reports the same problem and follows this task.
draft-duplicate = Already reported?
draft-duplicate-value = This looks like **{ $id }** “{ $title }”, opened <t:{ $since }:R>. Join it to follow it, or create a new task anyway.
button-join = Join the existing task
button-create-anyway = Create anyway
draft-joined = You now follow **{ $id }** as one of its reporters: its thread has the news.
## On call and escalation (issue 5)
event-paged = Paged { $target } (step { $step }).
event-paged-late = Paged { $target } (step { $step }, late: Ponte could not page at the time).
event-page-failed = A page could not be delivered ({ $reason }): the next escalation step is paged now.
event-alert-fired = 🚨 Alert from **{ $source }** (severity { $severity }).
event-alert-storm = 🚨 Alert storm from **{ $source }**: more alerts of group `{ $group }` fold into this task instead of opening their own (severity { $severity }).
event-alert-repeated = The alert fired again in { $source }.
event-alert-folded = { $count } more alerts folded into this task; the latest: **{ $title }**
event-alert-resolved = ✅ The alert resolved in { $source }; the task stays open, since someone is working on it.
event-alert-resolved-some = ✅ One alert resolved in { $source }; { $firing } still firing.
event-alert-resolved-task = ✅ The alert resolved in { $source } and nobody had worked on the task: it is resolved.
event-heartbeat-resolved-task = ✅ `{ $name }` checked in again: the task is resolved.
event-heartbeat-resolved = ✅ `{ $name }` checked in again.
alert-details-source = Source: { $source }
alert-details-severity = Severity: { $severity }
alert-details-started = Started: { $at }
heartbeat-missed-title = Heartbeat missed: { $name }
heartbeat-missed-details = `{ $name }` should check in every { $every } (with { $grace } of grace); its last check-in was { $last }. The next check-in resolves this task.
event-snoozed = { $who } snoozed the paging until { $until }.
page-target-oncall = { $who } (on call in { $schedule })
page-target-nobody = nobody (no one on call in { $schedule })
page-target-pager = the pager { $pager }
page-text = Page: { $task } ({ $priority }) waits for the MSP: { $title }. Acknowledge to stop the escalation.
page-text-late = Page, late (Ponte could not page at the time): { $task } ({ $priority }) waits for the MSP: { $title }. Acknowledge to stop the escalation.
page-dm-refused = ⚠ { $person } could not be paged by direct message (their DMs are closed to Ponte): paging here, and the next escalation step now. Ask them to allow direct messages from this server.
page-pager-unreachable = ⚠ The outside pager { $pager } could not be reached; paging here instead.
button-acknowledge = Acknowledge
button-snooze = Snooze 15 min
oncall-none = No on-call schedules are configured.
oncall-now-title = On call now:
oncall-now-line = { $schedule }: { $who } until { $until }
oncall-schedule-title = On-call shifts of the next two weeks:
oncall-shift-line = { $from } – { $to }: { $who }
maintenance-started = Maintenance for { $client } until { $until }: nobody is paged for its tasks until then.
maintenance-ended = Maintenance for { $client } ended on { $until }: urgent tasks page again.
maintenance-none = { $client } has no maintenance window open now.
handover-title = On-call handover in { $schedule }: { $to } takes over from { $from }.
handover-no-tasks = No urgent task is open.
handover-tasks = Open urgent tasks: { $tasks }
error-escalate-limit = This task can be escalated at most { $max } times, { $minutes } minutes apart: the MSP has been told already.
error-not-requester-or-manager = Only the requester or the IT manager can escalate a task.
event-escalated = { $who } escalated the task: { $reason }. Paged { $target }.
escalated-reply = Escalated { $task }: { $target } has been paged.
oncall-override-done = { $who } is on call in { $schedule } from { $from } to { $to }.
error-only-msp-lead = Only an MSP lead can do this.
# Digests (issue 6)
digest-title = **Digest for { $client }: { $side }** · { $date }
digest-late = ⏰ Late: this digest was due { $due }, while Ponte was down.
digest-empty = Nothing new, nothing open.
digest-new = **New since the last digest ({ $count })**
digest-closed = **Closed since the last digest ({ $count })**
digest-open-yours = **Open, your move ({ $count })**
digest-open-side = **Open, waiting on { $side } ({ $count })**
digest-open-requester = **Open, waiting on the requester ({ $count })**
digest-breached = **SLA breached ({ $count })**
digest-at-risk = **SLA at risk ({ $count })**
digest-escalations = **Escalations acknowledged ({ $count })**
digest-approvals = **Approvals waiting ({ $count })**
digest-waiting = **Waiting on you**
digest-waiting-person = { $who }: { $tasks }
digest-waiting-nobody = not assigned yet: { $tasks }
digest-task = • `{ $id }` { $priority } { $title } · { $status } · { $age }
digest-task-assignee = {" "}· { $who }
digest-task-comment = {" "}· “{ $comment }”
digest-sla-first-response = • `{ $id }` { $priority } { $title } · first response { $percent }%
digest-sla-resolution = • `{ $id }` { $priority } { $title } · resolution { $percent }%
digest-sla-at = {" "}· target { $when }
digest-age-days = { $days }d { $hours }h
digest-age-hours = { $hours }h { $minutes }m
digest-age-minutes = { $minutes }m
digest-lead-title = **MSP digest, { $count } clients** · { $date }
digest-lead-client = __**{ $client }**__: { $open } open, { $breached } SLA breached
digest-preview-more = … and { $count } more messages in the posted digest.

## Personal digests by DM (/digest subscribe) and the digest chart.
digest-subscribed = Subscribed: each working morning at your digest time I'll send you, by direct message, what is waiting on you. `/digest unsubscribe` stops it.
digest-already-subscribed = You are already subscribed to the personal digest.
digest-unsubscribed = Unsubscribed: no more personal digests by direct message.
digest-not-subscribed = You are not subscribed to the personal digest, so there was nothing to stop.
digest-personal-title = **Your digest** · { $date }
digest-personal-empty = Nothing is waiting on you.
digest-personal-your-move = **Your move ({ $count })**
digest-personal-your-requests = **Your requests waiting on your answer ({ $count })**
digest-personal-assigned = **Assigned to you, waiting on others ({ $count })**
digest-personal-sla-ok = {" "}· SLA { $percent }%
digest-personal-sla-at-risk = {" "}· ⚠️ SLA at risk, { $percent }%
digest-personal-sla-breached = {" "}· 🔴 SLA breached, { $percent }%
digest-personal-footer = _`/digest unsubscribe` stops these messages._
digest-chart-legend = 📊 The chart: the last 14 days, one column per day. Bars above the line: tasks opened; below: tasks closed; blue for internal IT, orange for the MSP. Green line: the share of tasks resolved within the SLA (top = 100%).
# SLA warnings and breaches (issue 6)
sla-clock-first-response = first response
sla-clock-resolution = resolution
event-sla-warned = ⏳ SLA warning ({ $side }): the { $clock } has used { $percent }% of its { $target } target.
event-sla-breach-at = If nothing changes, it is breached at { $when }.
event-sla-breached = 🚨 SLA breached ({ $side }): the { $clock } is past its { $target } target.
# /sla report (issue 6)
sla-report-title = **SLA report for { $client }** · { $from } → { $to } · tasks opened in the period
sla-report-empty = No task was opened in this period.
sla-report-unreadable = { $count } tasks could not be read and are left out.
sla-report-row = **{ $side } · { $priority }**: { $tasks } tasks
sla-report-first = {"  "}first response: median { $median }, p90 { $p90 }, { $within } within target ({ $measured } answered)
sla-report-resolution = {"  "}resolution: median { $median }, p90 { $p90 }, { $within } within target ({ $measured } resolved)
sla-report-breached = {"    "}breached: { $breached }, of them still running: { $open } (counted with their time so far)
sla-report-waiting = {"  "}waiting on the other side { $other }, on the requester { $requester }
sla-report-more = … and { $count } more: `ponte report` gives the whole report.
error-bad-period = “{ $input }” is not a period. Use for example 7d, 30d, this-month, last-month or 2026-11-01..2026-11-15.
error-period-length = A period covers 1 to { $max } days.
error-report-other-client = You can see only your own company's report: leave out the client option.
error-unknown-client = There is no client “{ $input }”. Use the client's key, e.g. ACME.
error-report-staff-only = SLA reports are for the company's IT staff and the MSP.

## Delivery notices (issue 17)
notice-permission = ⚠ Ponte is not allowed to do its work in { $channel } (channel id { $id }): give Ponte's role View Channel, Send Messages, Send Messages in Threads, Create Public Threads, Embed Links, Attach Files and Read Message History there. `ponte doctor` lists what is missing. What could not be delivered is kept: `ponte outbox list`, then `ponte outbox retry`.
notice-thread-closed = ⚠ Ponte cannot post in the thread { $channel } (id { $id }): it is archived or locked. Reopen it, or unlock it for Ponte. What could not be delivered is kept: `ponte outbox list`, then `ponte outbox retry`.
notice-channel-type = ⚠ Ponte cannot start a thread in { $channel } (id { $id }): that kind of channel has no threads. The task continues in the requests channel.
notice-gone = ⚠ Ponte cannot post in { $channel } (id { $id }): that channel, thread or message no longer exists. If it was deleted on purpose, drop what waits for it (`ponte outbox list`, then `ponte outbox drop`); if a configured channel, put the new one in the configuration.
answer-late-form = Sorry, that took too long to open the form. Please try again.

# The MSP's queue channel: a task that becomes the MSP's (issue 19).
queue-new-task = 🆕 **{ $id }** · { $priority } · { $client }: { $title }
queue-list-title = Every client: the move of { $side }

# Roles and channels of another server, by name (issue 19).
place-msp-engineers = { $msp }' engineers
place-msp-leads = { $msp }' leads
place-msp-queue = { $msp }' queue channel
place-it-managers = { $client }'s IT managers
place-it-technicians = { $client }'s IT technicians
place-requests = the #requests channel of { $client }
place-internal-it = the internal IT channel of { $client }
place-msp-channel = the MSP's channel for { $client }
