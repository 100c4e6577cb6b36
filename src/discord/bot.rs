//! The bot's behaviour, between the serenity edge and the engine: it takes
//! an interaction in Ponte's terms and returns what to answer, also in
//! Ponte's terms. Nothing here knows serenity, so every path is testable.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::domain::due::parse_due;
use crate::domain::error::Arg;
use crate::domain::{
    ChatRef, ClientKey, Command, NewTask, Side, Task, TaskId, UserError, Visibility,
};
use crate::engine::{Ledger, Op, Outcome, PonteError, Request};
use crate::i18n::{Lang, Messages};
use crate::store::{Store, TaskFilter, TaskQuery};

use super::identity::{Resolved, resolve};
use super::invocation::{Interaction, Origin, TargetMessage};
use super::parse::{
    ChangeDraft, DraftRef, DraftVerb, Intent, Parsed, REQUEST_FORM, RequestDraft, parse,
};
use super::render::{Button, ButtonStyle, Embed, Field, Renderer, Reply, limits};
use crate::domain::understand::{Draft, Reason, understand_for_bot};
use crate::domain::{Priority, RouteInput, SideChoice};

/// How long a draft from a mention can be confirmed, in seconds.
pub const DRAFT_TTL_SECS: i64 = 30 * 60;

/// A text input of a modal form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub custom_id: String,
    pub label: String,
    pub long: bool,
    pub required: bool,
    pub max_length: u16,
}

/// A modal form to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Form {
    pub custom_id: String,
    pub title: String,
    pub inputs: Vec<Input>,
}

/// How to answer an interaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A new message (ephemeral or not).
    Reply(Reply),
    /// Replace the message the clicked button is on.
    Update(Reply),
    /// Show a form.
    Form(Form),
    /// Not Ponte's: leave it alone.
    Ignore,
}

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

    fn renderer(&self, lang: Lang) -> Renderer<'_> {
        Renderer {
            messages: &self.messages,
            lang,
        }
    }

    fn t(&self, lang: Lang, id: &str, args: &[(&str, Arg)]) -> String {
        self.messages.text(lang, id, args)
    }

    /// What to answer to `interaction`.
    pub async fn handle(&self, origin: &Origin, interaction: &Interaction) -> Answer {
        let lang = self.lang(origin);
        let intent = match parse(interaction) {
            Parsed::NotMine => return Answer::Ignore,
            Parsed::Malformed(e) => return self.refusal(lang, &PonteError::User(e)),
            Parsed::Ok(intent) => intent,
        };
        let is_button = matches!(interaction, Interaction::Button { .. });
        match self.act(origin, lang, intent, is_button).await {
            Ok(answer) => answer,
            Err(e) => self.refusal(lang, &e),
        }
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
        let who = resolve(
            &self.config,
            origin.guild,
            origin.channel,
            origin.user,
            &origin.roles,
        )?;
        match intent {
            Intent::Help => Ok(self.help(lang)),
            Intent::RequestForm => Ok(Answer::Form(self.request_form(lang))),
            Intent::Request(draft) => self.create(origin, lang, &who, draft, None).await,
            Intent::Track(target) => {
                let first_line = target.content.lines().next().unwrap_or_default();
                let draft = RequestDraft {
                    title: self
                        .renderer(lang)
                        .fit(first_line, crate::domain::text::TITLE_MAX),
                    details: target.content.clone(),
                    ..RequestDraft::default()
                };
                self.create(origin, lang, &who, draft, Some(target.author))
                    .await
            }
            Intent::Show(id) => self.show(lang, &who, id).await,
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
            Intent::Mine => {
                let clients: Vec<ClientKey> = match &who.client {
                    Some(c) => vec![c.clone()],
                    None => self
                        .config
                        .clients()
                        .iter()
                        .map(|c| c.key.clone())
                        .filter(|k| who.actor.serves(k))
                        .collect(),
                };
                let mut tasks = Vec::new();
                for client in &clients {
                    let filter = TaskFilter::AssignedTo(who.actor.person);
                    tasks.extend(self.list(&who, client, filter).await?);
                }
                let title = self.t(lang, "mine-title", &[]);
                Ok(self.list_answer(lang, &title, &tasks))
            }
            Intent::Draft(draft, source) => {
                self.draft_button(origin, lang, &who, draft, source).await
            }
            Intent::DigestPreview => self.digest_preview(lang, &who).await,
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
                let request = Request::by(who.actor.clone(), Op::Change { task, command })
                    .with_key(origin.interaction_id.to_string());
                let outcome = self.ledger.submit(request).await?;
                if is_button {
                    Ok(Answer::Update(
                        self.renderer(lang).card_message(&outcome.task),
                    ))
                } else {
                    Ok(Answer::Reply(self.changed(lang, &outcome, who.actor.side)))
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
        let tz = self
            .config
            .client(&client)
            .map(|c| c.time_zone.clone())
            .ok_or(UserError::NotForClient)?;
        let due = draft
            .due
            .as_deref()
            .map(|d| parse_due(d, &tz, self.clock.now()))
            .transpose()?;
        let new = NewTask {
            title: draft.title,
            details: draft.details,
            to: draft.to,
            priority: draft.priority,
            category: draft.category,
            due,
            on_behalf_of: on_behalf_of.map(crate::domain::PersonId),
            chat: Some(ChatRef {
                channel: Some(origin.channel),
                thread: None,
                message: None,
            }),
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

    async fn show(&self, lang: Lang, who: &Resolved, id: TaskId) -> Result<Answer, PonteError> {
        let (task, events) = self.ledger.show(who.actor.clone(), id).await?;
        let r = self.renderer(lang);
        let mut card = r.card(&task);
        let history = r.history(&events, who.actor.side);
        // The newest history that fits beside the card.
        let room = limits::EMBEDS_TOTAL - card.size() - 64;
        let recent = history.last().cloned().unwrap_or_default();
        if !recent.is_empty() {
            card.fields.push(super::render::Field {
                name: self.t(lang, "card-history", &[]),
                value: r.fit(
                    &tail(&recent, limits::FIELD_VALUE.min(room)),
                    limits::FIELD_VALUE,
                ),
                inline: false,
            });
        }
        Ok(Answer::Reply(Reply {
            embeds: vec![card],
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
            embeds: self.renderer(lang).task_list(title, tasks),
            ephemeral: true,
            ..Reply::default()
        })
    }

    fn changed(&self, lang: Lang, outcome: &Outcome, side: Side) -> Reply {
        let r = self.renderer(lang);
        let lines = r.history(&outcome.events, side).join("\n");
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
        let lang = self.lang(origin);
        let result = resolve(
            &self.config,
            origin.guild,
            origin.channel,
            origin.user,
            &origin.roles,
        )
        .map_err(PonteError::User)
        .and_then(|who| self.preview(lang, &who, source, None));
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
            fields.push(field(
                "draft-due",
                format!("<t:{}:f>", due.as_second()),
                true,
            ));
        }
        if !why.is_empty() {
            fields.push(field("draft-why", why.join("\n"), false));
        }
        let button = |verb, label: &str, style, priority, side| Button {
            label: self.t(lang, label, &[]),
            custom_id: DraftRef {
                verb,
                channel: source.channel,
                message: source.id,
                priority,
                side,
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
            embeds: vec![Embed {
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
            buttons: vec![
                button(
                    DraftVerb::Create,
                    "button-create",
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
            ],
            ephemeral: false,
            ping: Vec::new(),
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
                    ("due", Arg::Text(format!("<t:{}:f>", due.as_second()))),
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
                &[("user", Arg::Text(format!("<@{user}>")))],
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
        if source.author != origin.user {
            return Err(UserError::NotYourDraft.into());
        }
        if self.clock.now().as_second() - source.sent_at > DRAFT_TTL_SECS {
            return Err(UserError::DraftExpired.into());
        }
        match draft.verb {
            DraftVerb::Cancel => Ok(Answer::Update(Reply {
                content: self.t(lang, "draft-cancelled", &[]),
                ..Reply::default()
            })),
            DraftVerb::Flip | DraftVerb::Priority => {
                let choice = Some((draft.priority, draft.side));
                let preview = self.preview(lang, who, &source, choice)?;
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
                    on_behalf_of: None,
                    chat: Some(ChatRef {
                        channel: Some(source.channel),
                        thread: None,
                        message: None,
                    }),
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

/// The client of the place the person acts in.
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
