//! The bot's behaviour, between a chat adapter and the ledger: it takes
//! an interaction in Ponte's terms and returns what to answer, also in
//! Ponte's terms. Nothing here knows a chat, so every path is testable.
//!
//! [`Bot::handle`] answers an interaction; [`Bot::handle_typed`] is the same answer
//! before a refusal becomes text (what `tests/permissions.rs` tabulates). Page buttons
//! in a DM also accept someone on call now through an override, or paged for the task
//! as an MSP on-call (`identity::on_call_by_override_in_dm`).
//!
//! Drafts are not stored: a mention's draft lives in the chat. Its buttons carry the
//! source message's id and the choices made so far; every press reads the message
//! again and understands it again, and Create is keyed by the source message, so a
//! second press creates nothing twice. A draft's source, and the message "Track as
//! task" is used on, are read only from the channel the button or menu is in (anything
//! else is refused as gone), so a forged id cannot read out another client's message.

use std::sync::Arc;

use crate::app::clock::Clock;
use crate::app::engine::{Ledger, Op, Outcome, PonteError, Request};
use crate::config::Config;
use crate::domain::due::parse_due;
use crate::domain::error::Arg;
use crate::domain::{
    Audience, ChatRef, ClientKey, Command, NewTask, Side, Task, TaskId, UserError, Visibility,
};
use crate::i18n::{Lang, Messages};
use crate::store::{Store, TaskFilter, TaskQuery};

use super::identity::{Resolved, resolve};
use super::parse::{
    ChangeDraft, DraftRef, DraftVerb, Intent, Parsed, REQUEST_FORM, RequestDraft, parse,
    refuse_form_id,
};
use super::request::{Interaction, Origin, TargetMessage};
use crate::app::reply::markup;
use crate::app::reply::render::Renderer;
use crate::app::reply::{Answer, Button, ButtonStyle, Card, Field, Form, Input, Reply, limits};
use crate::domain::understand::{Draft, Reason, understand_for_bot};
use crate::domain::{Priority, RouteInput, SideChoice};

/// How long a draft from a mention can be confirmed, in seconds.
pub const DRAFT_TTL_SECS: i64 = 30 * 60;

/// Most tasks one list shows.
const LIST_LIMIT: usize = 100;

pub struct Bot<S: Store> {
    /// The bot's own user id, known once connected (its mention is not an
    /// assignee).
    pub me: Arc<std::sync::OnceLock<u64>>,
    pub config: Arc<Config>,
    pub ledger: Ledger<S>,
    pub messages: Arc<Messages>,
    pub clock: Arc<dyn Clock>,
}

impl<S: Store> Clone for Bot<S> {
    fn clone(&self) -> Self {
        Self {
            me: self.me.clone(),
            config: self.config.clone(),
            ledger: self.ledger.clone(),
            messages: self.messages.clone(),
            clock: self.clock.clone(),
        }
    }
}

impl<S: Store> Bot<S> {
    /// The language to answer this person in: their Discord locale if
    /// Ponte speaks it, else the language of the place.
    pub fn lang(&self, origin: &Origin) -> Lang {
        Lang::from_locale(&origin.locale).unwrap_or_else(|| {
            resolve(&self.config, origin.guild, origin.channel, origin.user, &[])
                .map_or(self.config.language(), |r| r.lang)
        })
    }

    pub(super) fn renderer(&self, lang: Lang) -> Renderer<'_> {
        Renderer {
            messages: &self.messages,
            lang,
        }
    }

    fn t(&self, lang: Lang, id: &str, args: &[(&str, Arg)]) -> String {
        self.messages.text(lang, id, args)
    }

    /// What to say when a form was the answer but came too late to be
    /// opened (the chat deferred the interaction first).
    pub fn late_form(&self, origin: &Origin) -> Reply {
        Reply {
            content: self.t(self.lang(origin), "answer-late-form", &[]),
            ephemeral: true,
            ..Reply::default()
        }
    }

    /// What to answer to `interaction`.
    pub async fn handle(&self, origin: &Origin, interaction: &Interaction) -> Answer {
        let lang = self.lang(origin);
        match self.handle_typed(origin, interaction).await {
            Ok(answer) => answer,
            Err(e) => self.refusal(lang, &e),
        }
    }

    /// [`Bot::handle`] before a refusal becomes text: the error stays
    /// typed (its Fluent message id), for the permission table test.
    pub async fn handle_typed(
        &self,
        origin: &Origin,
        interaction: &Interaction,
    ) -> Result<Answer, PonteError> {
        let lang = self.lang(origin);
        let intent = match parse(interaction) {
            Parsed::NotMine => return Ok(Answer::Ignore),
            Parsed::Malformed(e) => return Err(PonteError::User(e)),
            Parsed::Ok(intent) => intent,
        };
        let is_button = matches!(interaction, Interaction::Button { .. });
        self.act(origin, lang, intent, is_button).await
    }

    fn refusal(&self, lang: Lang, error: &PonteError) -> Answer {
        let text = match error {
            PonteError::User(e) => self.messages.user_error(lang, e),
            PonteError::Internal(e) => self.messages.internal_error(lang, &e.reference),
        };
        Answer::Reply(Reply::ephemeral(text))
    }

    async fn act(
        &self,
        origin: &Origin,
        lang: Lang,
        intent: Intent,
        is_button: bool,
    ) -> Result<Answer, PonteError> {
        if let Intent::Help = intent {
            return Ok(self.help(lang));
        }
        let who = self.who_acting(origin, &intent).await?;
        match intent {
            Intent::Help => Ok(self.help(lang)),
            // Not a form that cannot be submitted here (a DM from the MSP).
            Intent::RequestForm => {
                place_client(&who)?;
                Ok(Answer::Form(self.request_form(lang)))
            }
            Intent::Request(draft) => self.create(origin, lang, &who, draft, None).await,
            // Tracking a message goes through the same draft preview as a
            // mention; the one who tracked it confirms, for its author.
            // Discord gives the message the menu was used on, in this
            // channel; anything else is not to be read out.
            Intent::Track(target) if target.channel != origin.channel => {
                Err(UserError::DraftGone.into())
            }
            Intent::Track(target) => Ok(Answer::Reply(
                self.preview_checked(lang, &who, &target, None, Some(origin.user))
                    .await?,
            )),
            Intent::Show(id) => self.show(lang, &who, id, origin.guild).await,
            Intent::List { side } if self.in_msp_queue(origin, &who) => {
                self.queue_list(lang, &who, side.unwrap_or(Side::Msp)).await
            }
            Intent::List { side } => {
                let client = place_client(&who)?;
                let filter = side.map_or_else(TaskFilter::open, TaskFilter::HandledBy);
                let tasks = self.list(&who, client, filter).await?;
                let title = self.t(
                    lang,
                    "list-title",
                    &[("client", Arg::Text(client.to_string()))],
                );
                Ok(self.list_answer(lang, &title, &tasks))
            }
            Intent::Mine => self.mine(lang, &who).await,
            Intent::Draft(draft, source) => {
                self.draft_button(origin, lang, &who, draft, source).await
            }
            Intent::RefuseForm(task) => {
                // Only the IT manager decides: nobody else gets the form.
                if !who.actor.is_it_manager() {
                    return Err(UserError::OnlyItManager.into());
                }
                // Nor for a task they cannot see (a forged custom id).
                self.ledger.show(who.actor.clone(), task.clone()).await?;
                Ok(Answer::Form(self.refuse_form(lang, &task)))
            }
            Intent::OnCallNow => {
                let now = self.clock.now();
                let schedules = self.schedules().await?;
                let lines = self.renderer(lang).on_call_now(&schedules, now);
                Ok(Answer::Reply(Reply::ephemeral(lines)))
            }
            Intent::MaintenanceStart { minutes } => {
                self.maintenance(lang, &who, Some(minutes)).await
            }
            Intent::MaintenanceEnd => self.maintenance(lang, &who, None).await,
            Intent::OnCallOverride {
                person,
                from,
                to,
                schedule,
            } => {
                self.on_call_override(lang, &who, person, from, to, schedule)
                    .await
            }
            Intent::Escalate { task, reason } => {
                self.escalate(origin, lang, &who, task, reason).await
            }
            Intent::OnCallSchedule => {
                let now = self.clock.now();
                let schedules = self.schedules().await?;
                let lines = self.renderer(lang).on_call_schedule(&schedules, now);
                Ok(Answer::Reply(Reply::ephemeral(lines)))
            }
            Intent::DigestPreview { client } => self.digest_preview(lang, &who, client).await,
            Intent::DigestSubscribe => self.digest_subscribe(lang, &who, true).await,
            Intent::DigestUnsubscribe => self.digest_subscribe(lang, &who, false).await,
            Intent::SlaReport { client, period } => {
                self.sla_report(lang, &who, client, period).await
            }
            Intent::Change { task, change } => {
                let command = match change {
                    ChangeDraft::Ready(Command::Comment {
                        body,
                        visibility: Visibility::Side(_),
                    }) => Command::Comment {
                        body,
                        visibility: Visibility::Side(who.actor.side),
                    },
                    ChangeDraft::Ready(command) => command,
                    ChangeDraft::AssignTo(user) => {
                        let roles = origin
                            .resolved
                            .iter()
                            .find(|(id, _)| *id == user)
                            .map(|(_, roles)| roles.as_slice())
                            .unwrap_or_default();
                        let to = resolve(&self.config, origin.guild, origin.channel, user, roles)?;
                        Command::Assign { to: to.actor }
                    }
                };
                let decides = matches!(command, Command::Approve | Command::Refuse { .. });
                let request = Request::by(who.actor.clone(), Op::Change { task, command })
                    .with_key(origin.interaction_id.to_string());
                let outcome = self.ledger.submit(request).await?;
                if decides {
                    // The IT manager's card shows the decision, without buttons.
                    return self.decided(lang, &outcome).await;
                }
                if is_button {
                    Ok(Answer::Update(
                        self.renderer(lang).card_message(&outcome.task),
                    ))
                } else {
                    let mut reply = self.changed(lang, &outcome, who.actor.audience());
                    reply.content = self.for_server(&reply.content, origin.guild, lang);
                    Ok(Answer::Reply(reply))
                }
            }
        }
    }

    async fn create(
        &self,
        origin: &Origin,
        lang: Lang,
        who: &Resolved,
        draft: RequestDraft,
        on_behalf_of: Option<u64>,
    ) -> Result<Answer, PonteError> {
        let client = place_client(who)?.clone();
        let config = self.config.client(&client).ok_or(UserError::NotForClient)?;
        let tz = config.time_zone.clone();
        let now = self.clock.now();
        let due = draft
            .due
            .as_deref()
            .map(|d| parse_due(d, &tz, now))
            .transpose()?;
        // One understanding for every way of asking: the words of the title
        // and details are understood as a mention's or a DM's are (priority,
        // due time, the side asked for); the options given win.
        let text = format!("{}\n{}", draft.title, draft.details);
        let understood = understand_for_bot(&text, None, &config.routing, &tz, now);
        let new = NewTask {
            title: draft.title,
            details: draft.details,
            to: match draft.to {
                SideChoice::Auto => understood.side,
                chosen => chosen,
            },
            priority: draft.priority.or(Some(understood.priority)),
            category: draft.category,
            due: due.or(understood.due),
            on_behalf_of: on_behalf_of.map(crate::domain::PersonId),
            chat: Some(ChatRef {
                channel: self.card_place(&client, origin.channel),
                thread: None,
                message: None,
            }),
            alert: None,
        };
        let request = Request::by(who.actor.clone(), Op::Create { client, new })
            .with_key(origin.interaction_id.to_string());
        let outcome = self.ledger.submit(request).await?;
        Ok(self.created(lang, &outcome))
    }

    /// The answer to a created task: its id, where it went and why.
    fn created(&self, lang: Lang, outcome: &Outcome) -> Answer {
        let task = &outcome.task;
        let r = self.renderer(lang);
        let reason = task.route.as_ref().map(|x| r.reason(x)).unwrap_or_default();
        let mut text = self.t(
            lang,
            "task-created",
            &[
                ("id", Arg::Text(task.id.to_string())),
                ("side", Arg::Side(task.handling_side)),
                ("reason", Arg::Text(reason)),
                ("priority", Arg::Text(task.priority.to_string())),
            ],
        );
        if task.approval.blocks_msp() && task.handling_side == Side::Msp {
            text.push('\n');
            text.push_str(&self.t(lang, "task-created-needs-approval", &[]));
        }
        Answer::Reply(Reply::ephemeral(r.fit(&text, limits::CONTENT)))
    }

    async fn show(
        &self,
        lang: Lang,
        who: &Resolved,
        id: TaskId,
        here: Option<u64>,
    ) -> Result<Answer, PonteError> {
        let (task, events) = self.ledger.show(who.actor.clone(), id).await?;
        let r = self.renderer(lang);
        let mut card = r.card(&task);
        let history: Vec<String> = r
            .history(&events, who.actor.audience())
            .iter()
            .map(|l| self.for_server(l, here, lang))
            .collect();
        // The newest history that fits beside the card.
        let room = limits::EMBEDS_TOTAL - card.size() - 64;
        let recent = history.last().cloned().unwrap_or_default();
        if !recent.is_empty() {
            card.fields.push(crate::app::reply::render::Field {
                name: self.t(lang, "card-history", &[]),
                value: r.fit(
                    &tail(&recent, limits::FIELD_VALUE.min(room)),
                    limits::FIELD_VALUE,
                ),
                inline: false,
            });
        }
        Ok(Answer::Reply(Reply {
            cards: vec![card],
            ephemeral: true,
            ..Reply::default()
        }))
    }

    async fn list(
        &self,
        who: &Resolved,
        client: &ClientKey,
        filter: TaskFilter,
    ) -> Result<Vec<Task>, PonteError> {
        let query = TaskQuery {
            client: client.clone(),
            filter,
            after: None,
            limit: LIST_LIMIT,
        };
        self.ledger.list(who.actor.clone(), query).await
    }

    fn list_answer(&self, lang: Lang, title: &str, tasks: &[Task]) -> Answer {
        Answer::Reply(Reply {
            cards: self.renderer(lang).task_list(title, tasks),
            ephemeral: true,
            ..Reply::default()
        })
    }

    fn changed(&self, lang: Lang, outcome: &Outcome, audience: Audience) -> Reply {
        let r = self.renderer(lang);
        let lines = r.history(&outcome.events, audience).join("\n");
        let text = if outcome.replayed || lines.is_empty() {
            self.t(
                lang,
                "task-unchanged-replay",
                &[("id", Arg::Text(outcome.task.id.to_string()))],
            )
        } else {
            format!(
                "**{}** · {}\n{lines}",
                outcome.task.id,
                r.status(outcome.task.status)
            )
        };
        Reply::ephemeral(r.fit(&text, limits::CONTENT))
    }

    /// Answers a message that mentions the bot: the draft it understood,
    /// with buttons to create, correct or cancel it. Nothing is stored.
    pub async fn mention(&self, origin: &Origin, source: &TargetMessage) -> Reply {
        let mut lang = self.lang(origin);
        let result = match self.requester(origin) {
            Ok(who) => {
                if origin.guild.is_none() {
                    // A DM: the language of the person's company.
                    lang = who.lang;
                }
                self.preview_checked(lang, &who, source, None, None).await
            }
            Err(e) => Err(PonteError::User(e)),
        };
        match result {
            Ok(reply) => reply,
            Err(e) => {
                let Answer::Reply(mut reply) = self.refusal(lang, &e) else {
                    return Reply::default();
                };
                reply.ephemeral = false;
                reply
            }
        }
    }

    /// What the text of `source` means, for the person `who`.
    fn understood(
        &self,
        who: &Resolved,
        source: &TargetMessage,
    ) -> Result<(ClientKey, Draft), PonteError> {
        let client = place_client(who)?.clone();
        let config = self.config.client(&client).ok_or(UserError::NotForClient)?;
        let me = self.me.get().copied();
        let mut draft = understand_for_bot(
            &source.content,
            me,
            &config.routing,
            &config.time_zone,
            self.clock.now(),
        );
        // The details are the person's words, without the call to Ponte.
        if let Some(me) = me {
            draft.details = draft
                .details
                .replace(&format!("<@{me}>"), "")
                .replace(&format!("<@!{me}>"), "")
                .trim()
                .to_owned();
        }
        Ok((client, draft))
    }

    /// The draft preview, with `choice` (priority, side) when the person
    /// already corrected the guesses.
    fn preview(
        &self,
        lang: Lang,
        who: &Resolved,
        source: &TargetMessage,
        choice: Option<(Priority, SideChoice)>,
        tracker: Option<u64>,
        duplicate: Option<&Task>,
    ) -> Result<Reply, PonteError> {
        let (client, draft) = self.understood(who, source)?;
        if draft.title.trim().is_empty() {
            return Ok(Reply {
                content: self.t(lang, "help", &[]),
                ..Reply::default()
            });
        }
        let routing = self
            .config
            .routing(&client)
            .ok_or(UserError::NotForClient)?;
        let (priority, side) = choice.unwrap_or((draft.priority, draft.side));
        let decision = routing.route(
            who.actor.side,
            &RouteInput {
                text: &format!("{}\n{}", draft.title, draft.details),
                // The keywords decide again, so the reason names the word.
                category: None,
                to: side,
                priority: Some(priority),
            },
        )?;
        let r = self.renderer(lang);
        let mut why: Vec<String> = draft
            .reasons
            .iter()
            .filter_map(|reason| self.draft_reason(lang, reason))
            .collect();
        if choice.is_some() {
            why.push(self.t(
                lang,
                "draft-reason-chosen",
                &[("side", Arg::Side(decision.side))],
            ));
        }
        let field = |name: &str, value: String, inline: bool| Field {
            name: self.t(lang, name, &[]),
            value: r.fit(&value, limits::FIELD_VALUE),
            inline,
        };
        let mut fields = vec![
            field(
                "draft-side",
                format!("{} — {}", r.side(decision.side), r.reason(&decision.reason)),
                false,
            ),
            field("draft-priority", priority.to_string(), true),
            field(
                "draft-category",
                decision
                    .category
                    .as_ref()
                    .map_or_else(|| self.t(lang, "card-none", &[]), |c| c.to_string()),
                true,
            ),
        ];
        if let Some(due) = draft.due {
            fields.push(field("draft-due", markup::time(due), true));
        }
        if !why.is_empty() {
            fields.push(field("draft-why", why.join("\n"), false));
        }
        if let Some(dup) = duplicate {
            fields.push(Field {
                name: self.t(lang, "draft-duplicate", &[]),
                value: r.fit(
                    &self.t(
                        lang,
                        "draft-duplicate-value",
                        &[
                            ("id", Arg::Text(dup.id.to_string())),
                            ("title", Arg::Text(r.fit(&dup.title, 200))),
                            ("since", Arg::Text(dup.created_at.as_second().to_string())),
                        ],
                    ),
                    limits::FIELD_VALUE,
                ),
                inline: false,
            });
        }
        let button = |verb, label: &str, style, priority, side| Button {
            label: self.t(lang, label, &[]),
            custom_id: DraftRef {
                verb,
                channel: source.channel,
                message: source.id,
                priority,
                side,
                tracker,
            }
            .custom_id(),
            style,
        };
        let next = Priority::ALL[(Priority::ALL
            .iter()
            .position(|p| *p == priority)
            .unwrap_or(0)
            + 1)
            % 4];
        let flipped = SideChoice::To(decision.side.other());
        Ok(Reply {
            content: self.t(lang, "draft-intro", &[]),
            cards: vec![Card {
                title: r.fit(
                    &self.t(
                        lang,
                        "draft-title",
                        &[("title", Arg::Text(draft.title.clone()))],
                    ),
                    limits::EMBED_TITLE,
                ),
                description: r.fit(&draft.details, 1000),
                fields,
                color: 0x5865F2,
            }],
            buttons: duplicate
                .map(|_| {
                    button(
                        DraftVerb::Join,
                        "button-join",
                        ButtonStyle::Primary,
                        priority,
                        side,
                    )
                })
                .into_iter()
                .chain([
                    button(
                        DraftVerb::Create,
                        if duplicate.is_some() {
                            "button-create-anyway"
                        } else {
                            "button-create"
                        },
                        ButtonStyle::Success,
                        priority,
                        side,
                    ),
                    button(
                        DraftVerb::Flip,
                        "button-other-side",
                        ButtonStyle::Secondary,
                        priority,
                        flipped,
                    ),
                    button(
                        DraftVerb::Priority,
                        "button-priority",
                        ButtonStyle::Secondary,
                        next,
                        side,
                    ),
                    button(
                        DraftVerb::Cancel,
                        "button-cancel",
                        ButtonStyle::Secondary,
                        priority,
                        side,
                    ),
                ])
                .collect(),
            ephemeral: false,
            ping: Vec::new(),
            ping_roles: Vec::new(),
            file: None,
        })
    }

    fn draft_reason(&self, lang: Lang, reason: &Reason) -> Option<String> {
        let text = |s: &str| Arg::Text(s.to_owned());
        Some(match reason {
            Reason::PriorityCue {
                typed, priority, ..
            } => self.t(
                lang,
                "draft-reason-cue",
                &[
                    ("typed", text(typed)),
                    ("priority", text(priority.as_str())),
                ],
            ),
            Reason::Scope {
                phrase, priority, ..
            } => self.t(
                lang,
                "draft-reason-scope",
                &[
                    ("phrase", text(phrase)),
                    ("priority", text(priority.as_str())),
                ],
            ),
            Reason::CategoryPriority { category, priority } => self.t(
                lang,
                "draft-reason-category-priority",
                &[
                    ("category", text(category.as_str())),
                    ("priority", text(priority.as_str())),
                ],
            ),
            Reason::DefaultPriority { priority } => self.t(
                lang,
                "draft-reason-default-priority",
                &[("priority", text(priority.as_str()))],
            ),
            Reason::DueCue { phrase, due } => self.t(
                lang,
                "draft-reason-due",
                &[
                    ("phrase", text(phrase)),
                    ("due", Arg::Text(markup::time(*due))),
                ],
            ),
            Reason::SideHint { phrase, side } => self.t(
                lang,
                "draft-reason-side",
                &[("phrase", text(phrase)), ("side", Arg::Side(*side))],
            ),
            Reason::SideConflict { msp, internal } => self.t(
                lang,
                "draft-reason-side-conflict",
                &[("msp", text(msp)), ("internal", text(internal))],
            ),
            // Already said beside the side it goes to.
            Reason::Category(_) => return None,
            Reason::Mention { user } => self.t(
                lang,
                "draft-reason-mention",
                &[("user", Arg::Text(markup::person(*user)))],
            ),
        })
    }

    /// A button on a draft: create, correct or cancel it.
    async fn draft_button(
        &self,
        origin: &Origin,
        lang: Lang,
        who: &Resolved,
        draft: DraftRef,
        source: Option<TargetMessage>,
    ) -> Result<Answer, PonteError> {
        let source = source.ok_or(UserError::DraftGone)?;
        // A draft's buttons sit beside the message it was made from: a
        // custom id naming a message elsewhere (another client's channel)
        // is forged, and shows nothing of that message.
        if source.channel != origin.channel || draft.channel != origin.channel {
            return Err(UserError::DraftGone.into());
        }
        if draft.tracker.unwrap_or(source.author) != origin.user {
            return Err(UserError::NotYourDraft.into());
        }
        // A tracked message may be old: its draft is as fresh as the click.
        if draft.tracker.is_none() && self.clock.now().as_second() - source.sent_at > DRAFT_TTL_SECS
        {
            return Err(UserError::DraftExpired.into());
        }
        match draft.verb {
            DraftVerb::Join => {
                let dup = self
                    .duplicate_of(who, &source)
                    .await?
                    .ok_or(UserError::DraftGone)?;
                let request = Request::by(
                    who.actor.clone(),
                    Op::Change {
                        task: dup.id.clone(),
                        command: Command::JoinAsReporter,
                    },
                )
                .with_key(format!("join:{}", source.id));
                let outcome = self.ledger.submit(request).await?;
                Ok(Answer::Update(Reply {
                    content: self.t(
                        lang,
                        "draft-joined",
                        &[("id", Arg::Text(outcome.task.id.to_string()))],
                    ),
                    ..Reply::default()
                }))
            }
            DraftVerb::Cancel => Ok(Answer::Update(Reply {
                content: self.t(lang, "draft-cancelled", &[]),
                ..Reply::default()
            })),
            DraftVerb::Flip | DraftVerb::Priority => {
                let choice = Some((draft.priority, draft.side));
                let preview = self
                    .preview_checked(lang, who, &source, choice, draft.tracker)
                    .await?;
                Ok(Answer::Update(preview))
            }
            DraftVerb::Create => {
                let (client, understood) = self.understood(who, &source)?;
                let new = NewTask {
                    title: understood.title,
                    details: understood.details,
                    to: draft.side,
                    priority: Some(draft.priority),
                    // Routing matches the keywords again and records which.
                    category: None,
                    due: understood.due,
                    on_behalf_of: draft
                        .tracker
                        .map(|_| crate::domain::PersonId(source.author)),
                    // A draft from a DM gets its card in the company's
                    // requests channel, not in the DM.
                    chat: origin.guild.map(|_| ChatRef {
                        channel: self.card_place(&client, source.channel),
                        thread: None,
                        message: None,
                    }),
                    alert: None,
                };
                // Keyed by the message: a second click creates nothing twice.
                let request = Request::by(who.actor.clone(), Op::Create { client, new })
                    .with_key(format!("draft:{}", source.id));
                let outcome = self.ledger.submit(request).await?;
                let Answer::Reply(mut reply) = self.created(lang, &outcome) else {
                    return Ok(Answer::Ignore);
                };
                reply.ephemeral = false;
                Ok(Answer::Update(reply))
            }
        }
    }

    fn help(&self, lang: Lang) -> Answer {
        Answer::Reply(Reply::ephemeral(self.t(lang, "help", &[])))
    }

    fn request_form(&self, lang: Lang) -> Form {
        let input = |id: &str, label: &str, long, required, max_length| Input {
            custom_id: id.to_owned(),
            label: self.t(lang, label, &[]),
            long,
            required,
            max_length,
        };
        Form {
            custom_id: REQUEST_FORM.to_owned(),
            title: self.t(lang, "form-request-title", &[]),
            inputs: vec![
                input("title", "form-request-field-title", false, true, 200),
                input("details", "form-request-field-details", true, false, 4000),
            ],
        }
    }
}

// The company's territory: the IT manager's decisions.
impl<S: Store> Bot<S> {
    /// The form asking the IT manager why they refuse.
    fn refuse_form(&self, lang: Lang, task: &TaskId) -> Form {
        Form {
            custom_id: refuse_form_id(task),
            title: self.renderer(lang).fit(
                &self.t(
                    lang,
                    "refuse-form-title",
                    &[("id", Arg::Text(task.to_string()))],
                ),
                45,
            ),
            inputs: vec![Input {
                custom_id: "reason".to_owned(),
                label: self.t(lang, "refuse-form-reason", &[]),
                long: true,
                required: true,
                max_length: crate::domain::text::REASON_MAX as u16,
            }],
        }
    }

    /// The approval card after a decision: the decision, who and why.
    async fn decided(&self, lang: Lang, outcome: &Outcome) -> Result<Answer, PonteError> {
        let task = &outcome.task;
        let history = self.ledger.history(task.id.clone()).await?;
        let why = history.as_ref().and_then(|(_, events)| {
            events.iter().rev().find_map(|e| match &e.kind {
                crate::domain::EventKind::ApprovalRequested { why } => Some(why.clone()),
                _ => None,
            })
        });
        let card = self
            .renderer(lang)
            .approval_card(task, why.as_ref(), task.chat.thread);
        Ok(Answer::Update(card))
    }
}

// Duplicate reports: a draft that resembles an open task of the client.
impl<S: Store> Bot<S> {
    /// The open task of the person's client that the draft in `source`
    /// resembles (`domain::duplicate::find`), if any.
    async fn duplicate_of(
        &self,
        who: &Resolved,
        source: &TargetMessage,
    ) -> Result<Option<Task>, PonteError> {
        let (client, draft) = self.understood(who, source)?;
        let routing = self
            .config
            .routing(&client)
            .ok_or(UserError::NotForClient)?;
        let text = format!("{}\n{}", draft.title, draft.details);
        let decision = routing.route(
            who.actor.side,
            &RouteInput {
                text: &text,
                category: None,
                to: SideChoice::Auto,
                priority: None,
            },
        )?;
        // The open tasks created within the window among the client's
        // latest, not the first page of every open task: with many open
        // tasks, the recent ones would not be on it.
        let now = self.clock.now();
        let since = now - crate::domain::duplicate::WINDOW;
        let recent = self
            .ledger
            .recent_open(
                who.actor.clone(),
                client,
                since,
                crate::domain::duplicate::CANDIDATES,
            )
            .await?;
        Ok(
            crate::domain::duplicate::find(&text, decision.category.as_ref(), &recent, now)
                .cloned(),
        )
    }

    /// The draft preview, offering to join a task it resembles (not for a
    /// tracked message: joining is the reporter's own choice).
    async fn preview_checked(
        &self,
        lang: Lang,
        who: &Resolved,
        source: &TargetMessage,
        choice: Option<(Priority, SideChoice)>,
        tracker: Option<u64>,
    ) -> Result<Reply, PonteError> {
        let duplicate = match tracker {
            Some(_) => None,
            None => self.duplicate_of(who, source).await?,
        };
        self.preview(lang, who, source, choice, tracker, duplicate.as_ref())
    }
}

// Requests by DM: whom a DM is from.
impl<S: Store> Bot<S> {
    /// The person acting: from the server they act in or, in a DM, from the
    /// servers they are in.
    pub fn who(&self, origin: &Origin) -> Result<Resolved, UserError> {
        match origin.guild {
            Some(_) => resolve(
                &self.config,
                origin.guild,
                origin.channel,
                origin.user,
                &origin.roles,
            ),
            None => match dm_person(&self.config, origin.user, &origin.memberships) {
                // Pressing a page's buttons in a DM: the MSP's on-call
                // engineers act there as MSP engineers.
                Err(e @ (UserError::DmFromMsp | UserError::DmUnknownPerson)) => {
                    resolve(&self.config, None, origin.channel, origin.user, &[]).map_err(|_| e)
                }
                other => other,
            },
        }
    }

    /// The person asking by a mention or a DM: in a DM, the one company
    /// whose server they are in (the MSP's people ask in a client's channel).
    fn requester(&self, origin: &Origin) -> Result<Resolved, UserError> {
        match origin.guild {
            Some(_) => self.who(origin),
            None => dm_person(&self.config, origin.user, &origin.memberships),
        }
    }
}

// Page buttons in a DM for someone on call through an override (gaps).
impl<S: Store> Bot<S> {
    /// [`Bot::who`], and in a DM, when that refuses, someone on call now
    /// through an override or paged for the task as an on-call.
    async fn who_acting(&self, origin: &Origin, intent: &Intent) -> Result<Resolved, PonteError> {
        let refused = match self.who(origin) {
            Ok(who) => return Ok(who),
            Err(e) if origin.guild.is_none() => e,
            Err(e) => return Err(e.into()),
        };
        let schedules = self.schedules().await?;
        let events = match intent {
            Intent::Change { task, .. } => self
                .ledger
                .history(task.clone())
                .await?
                .map(|(_, events)| events)
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        super::identity::on_call_by_override_in_dm(
            &self.config,
            origin.user,
            &schedules,
            self.clock.now(),
            &events,
        )
        .ok_or_else(|| refused.into())
    }
}

/// Whom a DM is from: the one company whose server the person is in as
/// one of its people. The MSP's people and people of several companies are
/// told where to ask instead.
pub fn dm_person(
    config: &Config,
    user: u64,
    memberships: &[(u64, Vec<u64>)],
) -> Result<Resolved, UserError> {
    let mut company: Vec<Resolved> = Vec::new();
    let mut msp = false;
    for (guild, roles) in memberships {
        let Some(client) = config.client_by_guild(*guild) else {
            msp |= config
                .msp()
                .server
                .is_some_and(|s| s.guild_id.get() == *guild);
            continue;
        };
        let r = resolve(
            config,
            Some(*guild),
            client.channels.requests.get(),
            user,
            roles,
        )?;
        if r.actor.side == Side::Internal {
            company.push(r);
        } else {
            msp = true;
        }
    }
    match (company.len(), msp) {
        (1, _) => Ok(company.remove(0)),
        (0, true) => Err(UserError::DmFromMsp),
        (0, false) => Err(UserError::DmUnknownPerson),
        _ => Err(UserError::DmSeveralClients {
            clients: company
                .iter()
                .filter_map(|r| r.client.as_ref().map(ToString::to_string))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// A message written (or edited) in a task's thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadMessage {
    pub thread: u64,
    pub message: u64,
    /// The author's display name, as the other side will read it.
    pub author: String,
    pub content: String,
    pub attachments: Vec<crate::domain::Attachment>,
    pub edit: bool,
}

// The bridge: what people write in a task's threads.
impl<S: Store> Bot<S> {
    /// Records a thread message as an event of `task` (shared messages are
    /// then relayed across; notes, starting with the note marker, stay).
    /// Nothing is answered: the message is the conversation.
    pub async fn thread_message(&self, origin: &Origin, task: TaskId, said: ThreadMessage) {
        if let Err(e) = self.record_thread_message(origin, task, said).await {
            tracing::warn!(user = origin.user, error = %e, "a thread message was not recorded");
        }
    }

    async fn record_thread_message(
        &self,
        origin: &Origin,
        id: TaskId,
        said: ThreadMessage,
    ) -> Result<(), PonteError> {
        let who = resolve(
            &self.config,
            origin.guild,
            origin.channel,
            origin.user,
            &origin.roles,
        )?;
        let (task, _) = self.ledger.show(who.actor.clone(), id.clone()).await?;
        // A thread merely named like the task is not the task's.
        if task.chat.thread != Some(said.thread) && task.mirror.thread != Some(said.thread) {
            return Ok(());
        }
        let (body, visibility) = crate::domain::bridge::classify(&said.content, who.actor.side);
        // Discord caps what people write at 4000 characters; anything longer
        // (a broken or hostile client) is kept cut with a note, not dropped.
        let body = self
            .renderer(who.lang)
            .fit(&body, crate::domain::text::COMMENT_MAX);
        let (command, key) = if said.edit {
            let key = format!(
                "edit:{}:{}",
                said.message,
                crate::app::deliver::nonce(&said.content)
            );
            (
                Command::EditSaid {
                    message: said.message,
                    body,
                    visibility,
                },
                key,
            )
        } else {
            (
                Command::Say {
                    author: said.author,
                    thread: said.thread,
                    message: said.message,
                    body,
                    visibility,
                    attachments: said.attachments,
                },
                format!("said:{}", said.message),
            )
        };
        let request =
            Request::by(who.actor.clone(), Op::Change { task: id, command }).with_key(key);
        self.ledger.submit(request).await.map(drop)
    }
}

/// The client of the place the person acts in.
impl<S: Store> Bot<S> {
    /// The on-call schedules with their recorded overrides.
    async fn schedules(&self) -> Result<Vec<crate::config::oncall::OnCallSchedule>, PonteError> {
        let store = self.ledger.store().clone();
        let config = self.config.clone();
        tokio::task::spawn_blocking(move || {
            crate::app::overrides::schedules(&*store, config.oncall())
        })
        .await
        .map_err(|e| PonteError::Internal(crate::app::engine::InternalError::log("overrides", &e)))?
        .map_err(|e| PonteError::Internal(crate::app::engine::InternalError::log("overrides", &e)))
    }

    /// `/oncall override @person from to [schedule]` (MSP lead only):
    /// `person` is on call in the schedule (default: the first MSP one)
    /// from `from` to `to`, local times of the schedule's time zone.
    async fn on_call_override(
        &self,
        lang: Lang,
        who: &Resolved,
        person: u64,
        from: String,
        to: String,
        schedule: Option<String>,
    ) -> Result<Answer, PonteError> {
        if !who.actor.leads(Side::Msp) {
            return Err(UserError::OnlyMspLead.into());
        }
        let oncall = self.config.oncall();
        let chosen = match &schedule {
            Some(name) => oncall.schedule(name.trim()),
            None => oncall.schedules.iter().find(|s| s.side == Side::Msp),
        };
        let Some(chosen) = chosen else {
            return Err(UserError::BadSide {
                input: schedule.unwrap_or_default(),
            }
            .into());
        };
        let tz = chosen.schedule.rotation().tz().clone();
        let at = |text: &str| -> Result<jiff::Timestamp, UserError> {
            text.trim()
                .replace(' ', "T")
                .parse::<jiff::civil::DateTime>()
                .ok()
                .and_then(|dt| tz.to_timestamp(dt).ok())
                .ok_or_else(|| UserError::BadDue {
                    input: text.to_owned(),
                })
        };
        let (from, to) = (at(&from)?, at(&to)?);
        let o = crate::domain::oncall::Override::new(crate::domain::PersonId(person), from, to)
            .map_err(|_| UserError::DueInPast)?;
        let store = self.ledger.store().clone();
        let name = chosen.schedule.name().to_owned();
        let now = self.clock.now();
        let recorded = o;
        tokio::task::spawn_blocking(move || {
            crate::app::overrides::add(&*store, &name, &recorded, now)
        })
        .await
        .map_err(|e| PonteError::Internal(crate::app::engine::InternalError::log("override", &e)))?
        .map_err(|e| {
            PonteError::Internal(crate::app::engine::InternalError::log("override", &e))
        })?;
        self.ledger.timers_wake().notify_one();
        let text = self.t(
            lang,
            "oncall-override-done",
            &[
                ("who", Arg::Text(markup::person(person))),
                ("schedule", Arg::Text(chosen.schedule.name().to_owned())),
                ("from", Arg::Text(markup::time(o.from))),
                ("to", Arg::Text(markup::time(o.to))),
            ],
        );
        Ok(Answer::Reply(Reply::ephemeral(text)))
    }

    /// `/task escalate` (issue 5): pages the top of the task's escalation
    /// policy now (its last step: in the example, the MSP leads), within
    /// the configured limits; without a policy for its priority, the
    /// client's MSP channel.
    async fn escalate(
        &self,
        origin: &Origin,
        lang: Lang,
        who: &Resolved,
        id: TaskId,
        reason: String,
    ) -> Result<Answer, PonteError> {
        // The limits are checked on the history as read; if the task changed
        // before the change was decided (a page recorded meanwhile), read
        // it again.
        let mut tries = 0;
        loop {
            let answer = self
                .escalate_once(origin, lang, who, id.clone(), reason.clone())
                .await;
            match answer {
                Err(PonteError::User(UserError::Unchanged)) if tries < 3 => tries += 1,
                other => return other,
            }
        }
    }

    async fn escalate_once(
        &self,
        origin: &Origin,
        lang: Lang,
        who: &Resolved,
        id: TaskId,
        reason: String,
    ) -> Result<Answer, PonteError> {
        use crate::domain::escalation::{Target, manual_escalation};
        let (task, events) = self.ledger.show(who.actor.clone(), id.clone()).await?;
        // Who first (decided again in the domain), then the limits.
        if who.actor.person != task.requester && !who.actor.is_it_manager() {
            return Err(UserError::NotRequesterOrManager.into());
        }
        let oncall = self.config.oncall();
        let now = self.clock.now();
        let n = manual_escalation(
            &events,
            oncall.escalate.max_per_task,
            oncall.escalate.min_interval,
            now,
        )?;
        let target = oncall
            .policy_for(task.id.client(), task.priority)
            .or_else(|| oncall.policy_for(task.id.client(), crate::domain::Priority::P1))
            .and_then(|rule| rule.policy.steps.last())
            .map(|step| step.target.clone())
            .or_else(|| {
                self.config
                    .msp_channel(task.id.client())
                    .map(|c| Target::Channel(c.get()))
            })
            .ok_or(UserError::ClientNeeded)?;
        let to = match &target {
            Target::OnCall(name) => oncall
                .schedule(name)
                .map(|s| s.schedule.on_call(now).person),
            Target::Person(p) => Some(*p),
            _ => None,
        };
        let command = Command::Escalate {
            as_of: task.version,
            reason,
            key: format!("escalate:{}:{n}", task.id),
            target: target.clone(),
            to,
        };
        let request = Request::by(who.actor.clone(), Op::Change { task: id, command })
            .with_key(origin.interaction_id.to_string());
        let outcome = self.ledger.submit(request).await?;
        let renderer = self.renderer(lang);
        let text = self.t(
            lang,
            "escalated-reply",
            &[
                ("task", Arg::Text(outcome.task.id.to_string())),
                ("target", Arg::Text(renderer.page_target(&target, to))),
            ],
        );
        let text = self.for_server(&text, origin.guild, lang);
        Ok(Answer::Reply(Reply::ephemeral(text)))
    }

    /// `text` for the server `here`: another server's roles and channels by
    /// name (`crate::app::reply::places`).
    fn for_server(&self, text: &str, here: Option<u64>, lang: Lang) -> String {
        crate::app::reply::places::for_server(text, here, &self.config, &self.messages, lang)
    }

    /// Starts (`Some(minutes)`) or ends a maintenance window of the place's
    /// client (issue 5): MSP staff or the client's IT manager.
    async fn maintenance(
        &self,
        lang: Lang,
        who: &Resolved,
        minutes: Option<u32>,
    ) -> Result<Answer, PonteError> {
        let client = place_client(who)?.clone();
        let actor = &who.actor;
        let allowed =
            actor.serves(&client) && (actor.works_for(Side::Msp) || actor.is_it_manager());
        if !allowed {
            return Err(UserError::NotStaffOf { side: Side::Msp }.into());
        }
        let now = self.clock.now();
        let store = self.ledger.store().clone();
        let key = client.clone();
        let done = tokio::task::spawn_blocking(move || match minutes {
            Some(m) => {
                let to = now
                    .checked_add(jiff::SignedDuration::from_mins(i64::from(m)))
                    .unwrap_or(now);
                crate::app::maintenance::start(&*store, &key, now, to).map(|_| Some(to))
            }
            None => crate::app::maintenance::end(&*store, &key, now).map(|w| w.map(|w| w.to)),
        })
        .await
        .map_err(|e| {
            PonteError::Internal(crate::app::engine::InternalError::log("maintenance", &e))
        })?
        .map_err(|e| {
            PonteError::Internal(crate::app::engine::InternalError::log(
                "recording a maintenance window",
                &e,
            ))
        })?;
        self.ledger.timers_wake().notify_one();
        let id = match (minutes, done) {
            (Some(_), Some(_)) => "maintenance-started",
            (None, Some(_)) => "maintenance-ended",
            (_, None) => "maintenance-none",
        };
        let until = done.map_or_else(String::new, markup::time);
        let text = self.t(
            lang,
            id,
            &[
                ("client", Arg::Text(client.to_string())),
                ("until", Arg::Text(until)),
            ],
        );
        let mut reply = Reply::ephemeral(text);
        reply.ephemeral = done.is_none();
        Ok(Answer::Reply(reply))
    }
}

impl<S: Store> Bot<S> {
    /// Where a new task's card goes when the request was made in `channel`:
    /// there if it is one of the client's own channels (requests, internal
    /// IT, the MSP's), else `None`, the client's requests channel. A card
    /// needs a channel that can hold a thread of its own: a request made in
    /// a thread (a task's, anyone's) or any other channel gets its card and
    /// thread where the client's tasks live.
    fn card_place(&self, client: &ClientKey, channel: u64) -> Option<u64> {
        let config = self.config.client(client)?;
        let own = [
            Some(config.channels.requests),
            config.channels.internal_it,
            config.channels.msp,
        ];
        own.iter()
            .flatten()
            .any(|c| c.get() == channel)
            .then_some(channel)
    }
}

fn place_client(who: &Resolved) -> Result<&ClientKey, UserError> {
    who.client.as_ref().ok_or(UserError::ClientNeeded)
}

/// The last characters of `text` that fit in `max`, starting at a line.
fn tail(text: &str, max: usize) -> String {
    let mut lines: Vec<&str> = Vec::new();
    let mut len = 0;
    for line in text.lines().rev() {
        let n = line.chars().count() + 1;
        if len + n > max {
            break;
        }
        len += n;
        lines.push(line);
    }
    lines.reverse();
    lines.join("\n")
}

#[cfg(test)]
mod dm_tests {
    use super::*;
    use crate::sandbox::cast;

    fn config() -> Config {
        Config::from_toml_str(cast::CONFIG, "ponte.example.toml").unwrap()
    }

    #[test]
    fn a_dm_is_from_the_one_company_whose_server_the_person_is_in() {
        let config = config();
        let giulia = dm_person(&config, 9001, &[(cast::ACME_GUILD, vec![])]).unwrap();
        assert_eq!(
            giulia.client.as_ref().map(ToString::to_string).as_deref(),
            Some("ACME")
        );
        assert_eq!(giulia.actor.side, Side::Internal);
        assert_eq!(dm_person(&config, 1, &[]), Err(UserError::DmUnknownPerson));
        // The MSP's people, in their server or in a client's with the MSP's role.
        assert_eq!(
            dm_person(
                &config,
                9022,
                &[(cast::MSP_GUILD, vec![cast::MSP_ENGINEER_ROLE])]
            ),
            Err(UserError::DmFromMsp)
        );
        assert_eq!(
            dm_person(
                &config,
                9021,
                &[(cast::BRIGHT_GUILD, vec![cast::BRIGHT_MSP_ENGINEER])]
            ),
            Err(UserError::DmFromMsp)
        );
        assert_eq!(
            dm_person(
                &config,
                7,
                &[(cast::ACME_GUILD, vec![]), (cast::BRIGHT_GUILD, vec![])]
            ),
            Err(UserError::DmSeveralClients {
                clients: "ACME, BRIGHT".into()
            })
        );
    }
}
