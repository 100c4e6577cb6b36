//! The permission table, through the real handler: every slash command,
//! button, form and draft button against every role of the demo (requester,
//! another employee of the client, the IT manager, an internal IT
//! technician, an MSP engineer, the MSP lead, the MSP's on-call in a DM, an
//! outsider), on a task of the person's own client and on the same task of
//! the other client (an id typed or a button's custom id forged), through
//! `Bot::handle_typed` (what `Bot::handle` answers, before the refusal is
//! turned into text). Each cell starts from the same fresh world.
//!
//! Besides the snapshot of the table, every cell checks: a refusal or a
//! "not found" changed nothing (every task's history is as before); an
//! action by one of Acme's people never changed a Brightline task nor showed
//! a Brightline word; no cell failed internally.

use std::sync::Arc;

use jiff::Timestamp;
use ponte::app::clock::{Clock, ManualClock};
use ponte::app::desk::Bot;
use ponte::app::desk::parse::{ApprovalButton, ButtonAction, DraftRef, DraftVerb, REQUEST_FORM};
use ponte::app::desk::request::{Interaction, OptionValue, Origin, TargetMessage};
use ponte::app::engine::{Ledger, PonteError};
use ponte::app::reply::Answer;
use ponte::config::Config;
use ponte::domain::{Priority, SideChoice, TaskId};
use ponte::i18n::Messages;
use ponte::sandbox::cast;
use ponte::store::SledStore;

const ACME_MARK: &str = "zanzaracme";
const BRIGHT_MARK: &str = "quokkabright";
/// Someone in no configured server.
const OUTSIDER: u64 = 6666;
/// Another employee of Acme (no role).
const OTHER_EMPLOYEE: u64 = 9009;
/// The source message of a draft, in each client's requests channel.
const ACME_SOURCE: u64 = 77_001;
const BRIGHT_SOURCE: u64 = 77_002;

/// Wednesday 25 November 2026, 10:00 in Rome: business hours.
fn now() -> Timestamp {
    "2026-11-25T09:00:00Z".parse().unwrap()
}

#[derive(Clone, Copy)]
struct Role {
    name: &'static str,
    user: u64,
    guild: Option<u64>,
    channel: u64,
    roles: &'static [u64],
    /// In a DM: the servers the person is in.
    memberships: &'static [(u64, &'static [u64])],
    locale: &'static str,
}

const ROLES: &[Role] = &[
    Role {
        name: "requester",
        user: 9001,
        guild: Some(cast::ACME_GUILD),
        channel: cast::ACME_REQUESTS,
        roles: &[],
        memberships: &[],
        locale: "en-US",
    },
    Role {
        name: "other employee",
        user: OTHER_EMPLOYEE,
        guild: Some(cast::ACME_GUILD),
        channel: cast::ACME_REQUESTS,
        roles: &[],
        memberships: &[],
        locale: "en-US",
    },
    Role {
        name: "IT manager",
        user: 9002,
        guild: Some(cast::ACME_GUILD),
        channel: cast::ACME_IT,
        roles: &[cast::ACME_IT_MANAGER],
        memberships: &[],
        locale: "en-US",
    },
    Role {
        name: "IT tech",
        user: 9003,
        guild: Some(cast::ACME_GUILD),
        channel: cast::ACME_IT,
        roles: &[cast::ACME_IT_TECH],
        memberships: &[],
        locale: "en-US",
    },
    Role {
        name: "MSP engineer",
        user: 9022,
        guild: Some(cast::MSP_GUILD),
        channel: cast::MSP_ACME,
        roles: &[cast::MSP_ENGINEER_ROLE],
        memberships: &[],
        locale: "en-US",
    },
    Role {
        name: "MSP lead",
        user: 9023,
        guild: Some(cast::MSP_GUILD),
        channel: cast::MSP_ACME,
        roles: &[cast::MSP_LEAD_ROLE, cast::MSP_ENGINEER_ROLE],
        memberships: &[],
        locale: "en-US",
    },
    Role {
        name: "on-call (DM)",
        user: 9021,
        guild: None,
        channel: 55_021,
        roles: &[],
        memberships: &[
            (cast::MSP_GUILD, &[cast::MSP_ENGINEER_ROLE]),
            (cast::BRIGHT_GUILD, &[cast::BRIGHT_MSP_ENGINEER]),
        ],
        locale: "en-US",
    },
    Role {
        name: "outsider (DM)",
        user: OUTSIDER,
        guild: None,
        channel: 55_666,
        roles: &[],
        memberships: &[],
        locale: "en-US",
    },
];

fn origin(role: &Role, interaction_id: u64) -> Origin {
    Origin {
        interaction_id,
        user: role.user,
        guild: role.guild,
        channel: role.channel,
        roles: role.roles.to_vec(),
        locale: role.locale.into(),
        resolved: vec![(9022, vec![cast::MSP_ENGINEER_ROLE])],
        memberships: role
            .memberships
            .iter()
            .map(|(g, r)| (*g, r.to_vec()))
            .collect(),
    }
}

/// Which of the fixture's tasks a command is about.
#[derive(Clone, Copy, PartialEq)]
enum Target {
    /// No task (lists, on-call, maintenance...).
    None,
    /// New, the MSP's move.
    Open,
    /// Waiting for the IT manager's approval.
    Approval,
    /// Resolved by the MSP.
    Resolved,
    /// A draft from a message in the client's requests channel.
    Draft,
}

fn task_id(client: &str, target: Target) -> String {
    let n = match target {
        Target::Open => 1,
        Target::Approval => 2,
        Target::Resolved => 3,
        _ => 0,
    };
    format!("{client}-{n}")
}

fn slash(name: &str, sub: Option<&str>, options: Vec<(&str, OptionValue)>) -> Interaction {
    Interaction::Slash {
        name: name.into(),
        subcommand: sub.map(Into::into),
        options: options
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    }
}

fn text(v: &str) -> OptionValue {
    OptionValue::Text(v.into())
}

/// Every command, button and form, built for a target task id `id` (and,
/// for drafts, the message the draft refers to and the presser).
struct Case {
    name: &'static str,
    target: Target,
    build: fn(id: &str, draft: &DraftCtx) -> Interaction,
}

/// What a draft button refers to: the source message, and who presses.
struct DraftCtx {
    source: TargetMessage,
    presser: u64,
}

fn task_slash(sub: &'static str, id: &str, extra: Vec<(&'static str, OptionValue)>) -> Interaction {
    let mut options = vec![("id", text(id))];
    options.extend(extra);
    slash("task", Some(sub), options)
}

fn button(custom_id: String) -> Interaction {
    Interaction::Button {
        custom_id,
        source: None,
    }
}

fn tid(id: &str) -> TaskId {
    id.parse().unwrap()
}

fn draft_button(verb: DraftVerb, d: &DraftCtx) -> Interaction {
    // The presser confirms as the one who tracked the message: a forged id
    // for another client's message carries the presser's own id.
    let tracker = (d.presser != d.source.author).then_some(d.presser);
    Interaction::Button {
        custom_id: DraftRef {
            verb,
            channel: d.source.channel,
            message: d.source.id,
            priority: Priority::P3,
            side: SideChoice::Auto,
            tracker,
        }
        .custom_id(),
        source: Some(d.source.clone()),
    }
}

const CASES: &[Case] = &[
    Case {
        name: "/request title",
        target: Target::None,
        build: |_, _| {
            slash(
                "request",
                None,
                vec![("title", text("new monitor zanzaracme"))],
            )
        },
    },
    Case {
        name: "/request (form)",
        target: Target::None,
        build: |_, _| slash("request", None, vec![]),
    },
    Case {
        name: "request form submit",
        target: Target::None,
        build: |_, _| Interaction::Modal {
            custom_id: REQUEST_FORM.into(),
            fields: vec![("title".into(), "desk lamp zanzaracme".into())],
        },
    },
    Case {
        name: "/task show",
        target: Target::Open,
        build: |id, _| task_slash("show", id, vec![]),
    },
    Case {
        name: "/task list",
        target: Target::None,
        build: |_, _| slash("task", Some("list"), vec![]),
    },
    Case {
        name: "/mine",
        target: Target::None,
        build: |_, _| slash("mine", None, vec![]),
    },
    Case {
        name: "/help",
        target: Target::None,
        build: |_, _| slash("help", None, vec![]),
    },
    Case {
        name: "/task claim",
        target: Target::Open,
        build: |id, _| task_slash("claim", id, vec![]),
    },
    Case {
        name: "/task assign @paolo",
        target: Target::Open,
        build: |id, _| task_slash("assign", id, vec![("to", OptionValue::User(9022))]),
    },
    Case {
        name: "/task status in_progress",
        target: Target::Open,
        build: |id, _| task_slash("status", id, vec![("status", text("in_progress"))]),
    },
    Case {
        name: "/task comment",
        target: Target::Open,
        build: |id, _| task_slash("comment", id, vec![("text", text("any news?"))]),
    },
    Case {
        name: "/task note",
        target: Target::Open,
        build: |id, _| task_slash("note", id, vec![("text", text("between us"))]),
    },
    Case {
        name: "/task handoff",
        target: Target::Open,
        build: |id, _| task_slash("handoff", id, vec![("reason", text("yours"))]),
    },
    Case {
        name: "/task close",
        target: Target::Resolved,
        build: |id, _| task_slash("close", id, vec![]),
    },
    Case {
        name: "/task reopen",
        target: Target::Resolved,
        build: |id, _| task_slash("reopen", id, vec![("reason", text("again"))]),
    },
    Case {
        name: "/task cancel",
        target: Target::Open,
        build: |id, _| task_slash("cancel", id, vec![("reason", text("not needed"))]),
    },
    Case {
        name: "/task escalate",
        target: Target::Open,
        build: |id, _| task_slash("escalate", id, vec![("reason", text("urgent"))]),
    },
    Case {
        name: "button Claim",
        target: Target::Open,
        build: |id, _| button(ButtonAction::Claim.custom_id(&tid(id))),
    },
    Case {
        name: "button Resolve",
        target: Target::Open,
        build: |id, _| button(ButtonAction::Resolve.custom_id(&tid(id))),
    },
    Case {
        name: "button Reopen",
        target: Target::Resolved,
        build: |id, _| button(ButtonAction::Reopen.custom_id(&tid(id))),
    },
    Case {
        name: "page Acknowledge",
        target: Target::Open,
        build: |id, _| button(ButtonAction::Acknowledge.custom_id(&tid(id))),
    },
    Case {
        name: "page Snooze",
        target: Target::Open,
        build: |id, _| button(ButtonAction::Snooze.custom_id(&tid(id))),
    },
    Case {
        name: "button Approve",
        target: Target::Approval,
        build: |id, _| button(ApprovalButton::Approve.custom_id(&tid(id))),
    },
    Case {
        name: "button Refuse (form)",
        target: Target::Approval,
        build: |id, _| button(ApprovalButton::Refuse.custom_id(&tid(id))),
    },
    Case {
        name: "refuse form submit",
        target: Target::Approval,
        build: |id, _| Interaction::Modal {
            custom_id: ponte::app::desk::parse::refuse_form_id(&tid(id)),
            fields: vec![("reason".into(), "too expensive".into())],
        },
    },
    Case {
        name: "Track as task",
        target: Target::Draft,
        build: |_, d| Interaction::MessageMenu {
            name: ponte::app::desk::parse::TRACK_AS_TASK.into(),
            target: d.source.clone(),
        },
    },
    Case {
        name: "draft Join",
        target: Target::Draft,
        build: |_, d| draft_button(DraftVerb::Join, d),
    },
    Case {
        name: "draft Create anyway",
        target: Target::Draft,
        build: |_, d| draft_button(DraftVerb::Create, d),
    },
    Case {
        name: "draft Other side",
        target: Target::Draft,
        build: |_, d| draft_button(DraftVerb::Flip, d),
    },
    Case {
        name: "/oncall now",
        target: Target::None,
        build: |_, _| slash("oncall", Some("now"), vec![]),
    },
    Case {
        name: "/oncall schedule",
        target: Target::None,
        build: |_, _| slash("oncall", Some("schedule"), vec![]),
    },
    Case {
        name: "/oncall override",
        target: Target::None,
        build: |_, _| {
            slash(
                "oncall",
                Some("override"),
                vec![
                    ("person", OptionValue::User(9022)),
                    ("from", text("2026-11-26 08:00")),
                    ("to", text("2026-11-26 20:00")),
                ],
            )
        },
    },
    Case {
        name: "/maintenance start",
        target: Target::None,
        build: |_, _| {
            slash(
                "maintenance",
                Some("start"),
                vec![("minutes", OptionValue::Integer(30))],
            )
        },
    },
    Case {
        name: "/maintenance end",
        target: Target::None,
        build: |_, _| slash("maintenance", Some("end"), vec![]),
    },
    Case {
        name: "/digest preview",
        target: Target::None,
        build: |_, _| slash("digest", Some("preview"), vec![]),
    },
    Case {
        name: "/digest subscribe",
        target: Target::None,
        build: |_, _| slash("digest", Some("subscribe"), vec![]),
    },
    Case {
        name: "/digest unsubscribe",
        target: Target::None,
        build: |_, _| slash("digest", Some("unsubscribe"), vec![]),
    },
    Case {
        name: "/sla report",
        target: Target::None,
        build: |_, _| slash("sla", Some("report"), vec![("period", text("30d"))]),
    },
    Case {
        name: "/sla report BRIGHT",
        target: Target::None,
        build: |_, _| slash("sla", Some("report"), vec![("client", text("BRIGHT"))]),
    },
];

/// A fresh world: Brightline's and Acme's open, approval and resolved
/// tasks (numbers 1, 2, 3 in each), made through the bot itself.
async fn world() -> (Bot<SledStore>, Arc<ManualClock>) {
    let config = Arc::new(Config::from_toml_str(cast::CONFIG, "ponte.example.toml").unwrap());
    let clock = Arc::new(ManualClock::new(now()));
    let store = Arc::new(SledStore::open_temporary().unwrap());
    let ledger = Ledger::start(store, Arc::new(config.rules()), clock.clone()).unwrap();
    let bot = Bot {
        me: Arc::new(std::sync::OnceLock::new()),
        config,
        ledger,
        messages: Arc::new(Messages::load().unwrap()),
        clock: clock.clone() as Arc<dyn Clock>,
    };
    let acme = (
        "ACME",
        cast::ACME_GUILD,
        cast::ACME_REQUESTS,
        9001,
        ACME_MARK,
    );
    let acme_msp = (
        9022,
        Some(cast::MSP_GUILD),
        cast::MSP_ACME,
        cast::MSP_ENGINEER_ROLE,
    );
    let bright = (
        "BRIGHT",
        cast::BRIGHT_GUILD,
        cast::BRIGHT_REQUESTS,
        9011,
        BRIGHT_MARK,
    );
    let bright_msp = (
        9021,
        Some(cast::BRIGHT_GUILD),
        cast::BRIGHT_MSP,
        cast::BRIGHT_MSP_ENGINEER,
    );
    let mut n = 1;
    for ((client, guild, channel, requester, mark), (engineer, eguild, echannel, erole)) in
        [(bright, bright_msp), (acme, acme_msp)]
    {
        let who = Role {
            name: "setup",
            user: requester,
            guild: Some(guild),
            channel,
            roles: &[],
            memberships: &[],
            locale: "en-US",
        };
        let roles: &'static [u64] = Box::leak(vec![erole].into_boxed_slice());
        let msp = Role {
            name: "setup msp",
            user: engineer,
            guild: eguild,
            channel: echannel,
            roles,
            memberships: &[],
            locale: "en-US",
        };
        let mut run = |role: &Role, i: Interaction| {
            n += 1;
            let o = origin(role, 1_000 + n);
            let bot = bot.clone();
            async move {
                let answer = bot.handle_typed(&o, &i).await;
                assert!(answer.is_ok(), "setup failed: {answer:?}");
            }
        };
        let request = |title: String| {
            slash(
                "request",
                None,
                vec![("title", text(&title)), ("to", text("msp"))],
            )
        };
        run(
            &who,
            request(format!("the meeting room projector flickers {mark}")),
        )
        .await;
        run(&who, request(format!("the file server is slow {mark}"))).await;
        run(&who, request(format!("the badge reader beeps {mark}"))).await;
        let third = format!("{client}-3");
        run(&msp, task_slash("claim", &third, vec![])).await;
        run(
            &msp,
            task_slash("status", &third, vec![("status", text("resolved"))]),
        )
        .await;
    }
    (bot, clock)
}

/// Every task's history length, to see that nothing changed.
async fn histories(bot: &Bot<SledStore>) -> Vec<(String, usize)> {
    let mut all = Vec::new();
    for client in ["ACME", "BRIGHT"] {
        for n in 1..=4 {
            let id = format!("{client}-{n}");
            let len = bot
                .ledger
                .history(tid(&id))
                .await
                .unwrap()
                .map_or(0, |(_, e)| e.len());
            all.push((id, len));
        }
    }
    all
}

fn words(answer: &Answer) -> String {
    match answer {
        Answer::Reply(r) | Answer::Update(r) => format!("{r:?}"),
        Answer::Form(f) => format!("{f:?}"),
        Answer::Ignore => String::new(),
    }
}

fn kind(result: &Result<Answer, PonteError>) -> String {
    match result {
        Ok(Answer::Reply(_)) => "done".into(),
        Ok(Answer::Update(_)) => "done (card)".into(),
        Ok(Answer::Form(_)) => "form".into(),
        Ok(Answer::Ignore) => "ignored".into(),
        Err(PonteError::User(e)) if e.message_id() == "error-unknown-task" => "not found".into(),
        Err(PonteError::User(e)) => format!("refused {}", e.message_id()),
        Err(PonteError::Internal(e)) => format!("INTERNAL {e:?}"),
    }
}

/// One cell: a fresh world, the case by the role on its own client's task
/// (`other` false) or the other client's.
async fn cell(case: &Case, role: &Role, other: bool) -> String {
    let (bot, _clock) = world().await;
    let client = if other { "BRIGHT" } else { "ACME" };
    let (channel, author, id, content) = if other {
        (
            cast::BRIGHT_REQUESTS,
            9011,
            BRIGHT_SOURCE,
            format!("the meeting room projector flickers again {BRIGHT_MARK}"),
        )
    } else {
        (
            // The draft beside its message, where the person is.
            role.channel,
            9001,
            ACME_SOURCE,
            format!("the meeting room projector flickers again {ACME_MARK}"),
        )
    };
    let draft = DraftCtx {
        source: TargetMessage {
            id,
            channel,
            author,
            content,
            sent_at: now().as_second() - 60,
        },
        presser: role.user,
    };
    let interaction = (case.build)(&task_id(client, case.target), &draft);
    let before = histories(&bot).await;
    let result = bot.handle_typed(&origin(role, 42), &interaction).await;
    let after = histories(&bot).await;
    let k = kind(&result);
    assert!(
        !k.starts_with("INTERNAL"),
        "{} by {}: {k}",
        case.name,
        role.name
    );
    if k.starts_with("refused") || k == "not found" {
        assert_eq!(
            before, after,
            "{} by {} was refused but changed something",
            case.name, role.name
        );
    }
    // Acme's own people never touch nor see Brightline's work.
    let acme_person = role.guild == Some(cast::ACME_GUILD);
    if acme_person {
        let bright = |h: &[(String, usize)]| {
            h.iter()
                .filter(|(id, _)| id.starts_with("BRIGHT"))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            bright(&before),
            bright(&after),
            "{} by {}",
            case.name,
            role.name
        );
        if let Ok(answer) = &result {
            assert!(
                !words(answer).contains(BRIGHT_MARK),
                "{} by {} showed Brightline's words: {answer:?}",
                case.name,
                role.name
            );
        }
        // Nor does anything of Brightline's appear in Acme's tasks.
        for n in 1..=4 {
            if let Some((task, events)) =
                bot.ledger.history(tid(&format!("ACME-{n}"))).await.unwrap()
            {
                let all = format!("{task:?}{events:?}");
                assert!(
                    !all.contains(BRIGHT_MARK),
                    "{} by {}: {all}",
                    case.name,
                    role.name
                );
            }
        }
    }
    k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_and_button_against_every_role_and_client() {
    let mut table = String::new();
    table.push_str(&format!(
        "{:<26} {:<15} {:<36} {}\n",
        "command", "role", "own client (ACME)", "other client (BRIGHT)"
    ));
    for case in CASES {
        for role in ROLES {
            let own = cell(case, role, false).await;
            let other = if case.target == Target::None {
                "-".to_owned()
            } else {
                cell(case, role, true).await
            };
            table.push_str(&format!(
                "{:<26} {:<15} {:<36} {}\n",
                case.name, role.name, own, other
            ));
        }
    }
    insta::assert_snapshot!(table, @"
    command                    role            own client (ACME)                    other client (BRIGHT)
    /request title             requester       done                                 -
    /request title             other employee  done                                 -
    /request title             IT manager      done                                 -
    /request title             IT tech         done                                 -
    /request title             MSP engineer    done                                 -
    /request title             MSP lead        done                                 -
    /request title             on-call (DM)    refused error-client-needed          -
    /request title             outsider (DM)   refused error-dm-unknown-person      -
    /request (form)            requester       form                                 -
    /request (form)            other employee  form                                 -
    /request (form)            IT manager      form                                 -
    /request (form)            IT tech         form                                 -
    /request (form)            MSP engineer    form                                 -
    /request (form)            MSP lead        form                                 -
    /request (form)            on-call (DM)    refused error-client-needed          -
    /request (form)            outsider (DM)   refused error-dm-unknown-person      -
    request form submit        requester       done                                 -
    request form submit        other employee  done                                 -
    request form submit        IT manager      done                                 -
    request form submit        IT tech         done                                 -
    request form submit        MSP engineer    done                                 -
    request form submit        MSP lead        done                                 -
    request form submit        on-call (DM)    refused error-client-needed          -
    request form submit        outsider (DM)   refused error-dm-unknown-person      -
    /task show                 requester       done                                 not found
    /task show                 other employee  done                                 not found
    /task show                 IT manager      done                                 not found
    /task show                 IT tech         done                                 not found
    /task show                 MSP engineer    done                                 done
    /task show                 MSP lead        done                                 done
    /task show                 on-call (DM)    done                                 done
    /task show                 outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    /task list                 requester       done                                 -
    /task list                 other employee  done                                 -
    /task list                 IT manager      done                                 -
    /task list                 IT tech         done                                 -
    /task list                 MSP engineer    done                                 -
    /task list                 MSP lead        done                                 -
    /task list                 on-call (DM)    refused error-client-needed          -
    /task list                 outsider (DM)   refused error-dm-unknown-person      -
    /mine                      requester       done                                 -
    /mine                      other employee  done                                 -
    /mine                      IT manager      done                                 -
    /mine                      IT tech         done                                 -
    /mine                      MSP engineer    done                                 -
    /mine                      MSP lead        done                                 -
    /mine                      on-call (DM)    done                                 -
    /mine                      outsider (DM)   refused error-dm-unknown-person      -
    /help                      requester       done                                 -
    /help                      other employee  done                                 -
    /help                      IT manager      done                                 -
    /help                      IT tech         done                                 -
    /help                      MSP engineer    done                                 -
    /help                      MSP lead        done                                 -
    /help                      on-call (DM)    done                                 -
    /help                      outsider (DM)   done                                 -
    /task claim                requester       refused error-not-staff-of           not found
    /task claim                other employee  refused error-not-staff-of           not found
    /task claim                IT manager      refused error-not-staff-of           not found
    /task claim                IT tech         refused error-not-staff-of           not found
    /task claim                MSP engineer    done                                 done
    /task claim                MSP lead        done                                 done
    /task claim                on-call (DM)    done                                 done
    /task claim                outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    /task assign @paolo        requester       refused error-not-staff-of           not found
    /task assign @paolo        other employee  refused error-not-staff-of           not found
    /task assign @paolo        IT manager      refused error-not-staff-of           not found
    /task assign @paolo        IT tech         refused error-not-staff-of           not found
    /task assign @paolo        MSP engineer    done                                 done
    /task assign @paolo        MSP lead        done                                 done
    /task assign @paolo        on-call (DM)    done                                 done
    /task assign @paolo        outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    /task status in_progress   requester       refused error-not-staff-of           not found
    /task status in_progress   other employee  refused error-not-staff-of           not found
    /task status in_progress   IT manager      refused error-not-staff-of           not found
    /task status in_progress   IT tech         refused error-not-staff-of           not found
    /task status in_progress   MSP engineer    done                                 done
    /task status in_progress   MSP lead        done                                 done
    /task status in_progress   on-call (DM)    done                                 done
    /task status in_progress   outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    /task comment              requester       done                                 not found
    /task comment              other employee  done                                 not found
    /task comment              IT manager      done                                 not found
    /task comment              IT tech         done                                 not found
    /task comment              MSP engineer    done                                 done
    /task comment              MSP lead        done                                 done
    /task comment              on-call (DM)    done                                 done
    /task comment              outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    /task note                 requester       refused error-note-not-your-side     not found
    /task note                 other employee  refused error-note-not-your-side     not found
    /task note                 IT manager      done                                 not found
    /task note                 IT tech         done                                 not found
    /task note                 MSP engineer    done                                 done
    /task note                 MSP lead        done                                 done
    /task note                 on-call (DM)    done                                 done
    /task note                 outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    /task handoff              requester       refused error-not-staff-of           not found
    /task handoff              other employee  refused error-not-staff-of           not found
    /task handoff              IT manager      done                                 not found
    /task handoff              IT tech         refused error-not-staff-of           not found
    /task handoff              MSP engineer    done                                 done
    /task handoff              MSP lead        done                                 done
    /task handoff              on-call (DM)    done                                 done
    /task handoff              outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    /task close                requester       done                                 not found
    /task close                other employee  refused error-not-requester-or-staff not found
    /task close                IT manager      done                                 not found
    /task close                IT tech         refused error-not-requester-or-staff not found
    /task close                MSP engineer    done                                 done
    /task close                MSP lead        done                                 done
    /task close                on-call (DM)    done                                 done
    /task close                outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    /task reopen               requester       done                                 not found
    /task reopen               other employee  refused error-not-requester-or-staff not found
    /task reopen               IT manager      done                                 not found
    /task reopen               IT tech         refused error-not-requester-or-staff not found
    /task reopen               MSP engineer    done                                 done
    /task reopen               MSP lead        done                                 done
    /task reopen               on-call (DM)    done                                 done
    /task reopen               outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    /task cancel               requester       done                                 not found
    /task cancel               other employee  refused error-not-requester-or-staff not found
    /task cancel               IT manager      done                                 not found
    /task cancel               IT tech         refused error-not-requester-or-staff not found
    /task cancel               MSP engineer    refused error-not-requester-or-staff refused error-not-requester-or-staff
    /task cancel               MSP lead        done                                 done
    /task cancel               on-call (DM)    refused error-not-requester-or-staff refused error-not-requester-or-staff
    /task cancel               outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    /task escalate             requester       done                                 not found
    /task escalate             other employee  refused error-not-requester-or-manager not found
    /task escalate             IT manager      done                                 not found
    /task escalate             IT tech         refused error-not-requester-or-manager not found
    /task escalate             MSP engineer    refused error-not-requester-or-manager refused error-not-requester-or-manager
    /task escalate             MSP lead        refused error-not-requester-or-manager refused error-not-requester-or-manager
    /task escalate             on-call (DM)    refused error-not-requester-or-manager refused error-not-requester-or-manager
    /task escalate             outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    button Claim               requester       refused error-not-staff-of           not found
    button Claim               other employee  refused error-not-staff-of           not found
    button Claim               IT manager      refused error-not-staff-of           not found
    button Claim               IT tech         refused error-not-staff-of           not found
    button Claim               MSP engineer    done (card)                          done (card)
    button Claim               MSP lead        done (card)                          done (card)
    button Claim               on-call (DM)    done (card)                          done (card)
    button Claim               outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    button Resolve             requester       refused error-not-staff-of           not found
    button Resolve             other employee  refused error-not-staff-of           not found
    button Resolve             IT manager      refused error-not-staff-of           not found
    button Resolve             IT tech         refused error-not-staff-of           not found
    button Resolve             MSP engineer    done (card)                          done (card)
    button Resolve             MSP lead        done (card)                          done (card)
    button Resolve             on-call (DM)    done (card)                          done (card)
    button Resolve             outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    button Reopen              requester       done (card)                          not found
    button Reopen              other employee  refused error-not-requester-or-staff not found
    button Reopen              IT manager      done (card)                          not found
    button Reopen              IT tech         refused error-not-requester-or-staff not found
    button Reopen              MSP engineer    done (card)                          done (card)
    button Reopen              MSP lead        done (card)                          done (card)
    button Reopen              on-call (DM)    done (card)                          done (card)
    button Reopen              outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    page Acknowledge           requester       refused error-not-staff-of           not found
    page Acknowledge           other employee  refused error-not-staff-of           not found
    page Acknowledge           IT manager      refused error-not-staff-of           not found
    page Acknowledge           IT tech         refused error-not-staff-of           not found
    page Acknowledge           MSP engineer    done (card)                          done (card)
    page Acknowledge           MSP lead        done (card)                          done (card)
    page Acknowledge           on-call (DM)    done (card)                          done (card)
    page Acknowledge           outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    page Snooze                requester       refused error-not-staff-of           not found
    page Snooze                other employee  refused error-not-staff-of           not found
    page Snooze                IT manager      refused error-not-staff-of           not found
    page Snooze                IT tech         refused error-not-staff-of           not found
    page Snooze                MSP engineer    done (card)                          done (card)
    page Snooze                MSP lead        done (card)                          done (card)
    page Snooze                on-call (DM)    done (card)                          done (card)
    page Snooze                outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    button Approve             requester       refused error-only-it-manager        not found
    button Approve             other employee  refused error-only-it-manager        not found
    button Approve             IT manager      done (card)                          not found
    button Approve             IT tech         refused error-only-it-manager        not found
    button Approve             MSP engineer    refused error-only-it-manager        refused error-only-it-manager
    button Approve             MSP lead        refused error-only-it-manager        refused error-only-it-manager
    button Approve             on-call (DM)    refused error-only-it-manager        refused error-only-it-manager
    button Approve             outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    button Refuse (form)       requester       refused error-only-it-manager        refused error-only-it-manager
    button Refuse (form)       other employee  refused error-only-it-manager        refused error-only-it-manager
    button Refuse (form)       IT manager      form                                 not found
    button Refuse (form)       IT tech         refused error-only-it-manager        refused error-only-it-manager
    button Refuse (form)       MSP engineer    refused error-only-it-manager        refused error-only-it-manager
    button Refuse (form)       MSP lead        refused error-only-it-manager        refused error-only-it-manager
    button Refuse (form)       on-call (DM)    refused error-only-it-manager        refused error-only-it-manager
    button Refuse (form)       outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    refuse form submit         requester       refused error-only-it-manager        not found
    refuse form submit         other employee  refused error-only-it-manager        not found
    refuse form submit         IT manager      done (card)                          not found
    refuse form submit         IT tech         refused error-only-it-manager        not found
    refuse form submit         MSP engineer    refused error-only-it-manager        refused error-only-it-manager
    refuse form submit         MSP lead        refused error-only-it-manager        refused error-only-it-manager
    refuse form submit         on-call (DM)    refused error-only-it-manager        refused error-only-it-manager
    refuse form submit         outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    Track as task              requester       done                                 refused error-draft-gone
    Track as task              other employee  done                                 refused error-draft-gone
    Track as task              IT manager      done                                 refused error-draft-gone
    Track as task              IT tech         done                                 refused error-draft-gone
    Track as task              MSP engineer    done                                 refused error-draft-gone
    Track as task              MSP lead        done                                 refused error-draft-gone
    Track as task              on-call (DM)    refused error-client-needed          refused error-draft-gone
    Track as task              outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    draft Join                 requester       refused error-unchanged              refused error-draft-gone
    draft Join                 other employee  done (card)                          refused error-draft-gone
    draft Join                 IT manager      done (card)                          refused error-draft-gone
    draft Join                 IT tech         done (card)                          refused error-draft-gone
    draft Join                 MSP engineer    done (card)                          refused error-draft-gone
    draft Join                 MSP lead        done (card)                          refused error-draft-gone
    draft Join                 on-call (DM)    refused error-client-needed          refused error-draft-gone
    draft Join                 outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    draft Create anyway        requester       done (card)                          refused error-draft-gone
    draft Create anyway        other employee  done (card)                          refused error-draft-gone
    draft Create anyway        IT manager      done (card)                          refused error-draft-gone
    draft Create anyway        IT tech         done (card)                          refused error-draft-gone
    draft Create anyway        MSP engineer    done (card)                          refused error-draft-gone
    draft Create anyway        MSP lead        done (card)                          refused error-draft-gone
    draft Create anyway        on-call (DM)    refused error-client-needed          refused error-draft-gone
    draft Create anyway        outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    draft Other side           requester       done (card)                          refused error-draft-gone
    draft Other side           other employee  done (card)                          refused error-draft-gone
    draft Other side           IT manager      done (card)                          refused error-draft-gone
    draft Other side           IT tech         done (card)                          refused error-draft-gone
    draft Other side           MSP engineer    done (card)                          refused error-draft-gone
    draft Other side           MSP lead        done (card)                          refused error-draft-gone
    draft Other side           on-call (DM)    refused error-client-needed          refused error-draft-gone
    draft Other side           outsider (DM)   refused error-dm-unknown-person      refused error-dm-unknown-person
    /oncall now                requester       done                                 -
    /oncall now                other employee  done                                 -
    /oncall now                IT manager      done                                 -
    /oncall now                IT tech         done                                 -
    /oncall now                MSP engineer    done                                 -
    /oncall now                MSP lead        done                                 -
    /oncall now                on-call (DM)    done                                 -
    /oncall now                outsider (DM)   refused error-dm-unknown-person      -
    /oncall schedule           requester       done                                 -
    /oncall schedule           other employee  done                                 -
    /oncall schedule           IT manager      done                                 -
    /oncall schedule           IT tech         done                                 -
    /oncall schedule           MSP engineer    done                                 -
    /oncall schedule           MSP lead        done                                 -
    /oncall schedule           on-call (DM)    done                                 -
    /oncall schedule           outsider (DM)   refused error-dm-unknown-person      -
    /oncall override           requester       refused error-only-msp-lead          -
    /oncall override           other employee  refused error-only-msp-lead          -
    /oncall override           IT manager      refused error-only-msp-lead          -
    /oncall override           IT tech         refused error-only-msp-lead          -
    /oncall override           MSP engineer    refused error-only-msp-lead          -
    /oncall override           MSP lead        done                                 -
    /oncall override           on-call (DM)    refused error-only-msp-lead          -
    /oncall override           outsider (DM)   refused error-dm-unknown-person      -
    /maintenance start         requester       refused error-not-staff-of           -
    /maintenance start         other employee  refused error-not-staff-of           -
    /maintenance start         IT manager      done                                 -
    /maintenance start         IT tech         refused error-not-staff-of           -
    /maintenance start         MSP engineer    done                                 -
    /maintenance start         MSP lead        done                                 -
    /maintenance start         on-call (DM)    refused error-client-needed          -
    /maintenance start         outsider (DM)   refused error-dm-unknown-person      -
    /maintenance end           requester       refused error-not-staff-of           -
    /maintenance end           other employee  refused error-not-staff-of           -
    /maintenance end           IT manager      done                                 -
    /maintenance end           IT tech         refused error-not-staff-of           -
    /maintenance end           MSP engineer    done                                 -
    /maintenance end           MSP lead        done                                 -
    /maintenance end           on-call (DM)    refused error-client-needed          -
    /maintenance end           outsider (DM)   refused error-dm-unknown-person      -
    /digest preview            requester       done                                 -
    /digest preview            other employee  done                                 -
    /digest preview            IT manager      done                                 -
    /digest preview            IT tech         done                                 -
    /digest preview            MSP engineer    done                                 -
    /digest preview            MSP lead        done                                 -
    /digest preview            on-call (DM)    done                                 -
    /digest preview            outsider (DM)   refused error-dm-unknown-person      -
    /digest subscribe          requester       done                                 -
    /digest subscribe          other employee  done                                 -
    /digest subscribe          IT manager      done                                 -
    /digest subscribe          IT tech         done                                 -
    /digest subscribe          MSP engineer    done                                 -
    /digest subscribe          MSP lead        done                                 -
    /digest subscribe          on-call (DM)    done                                 -
    /digest subscribe          outsider (DM)   refused error-dm-unknown-person      -
    /digest unsubscribe        requester       done                                 -
    /digest unsubscribe        other employee  done                                 -
    /digest unsubscribe        IT manager      done                                 -
    /digest unsubscribe        IT tech         done                                 -
    /digest unsubscribe        MSP engineer    done                                 -
    /digest unsubscribe        MSP lead        done                                 -
    /digest unsubscribe        on-call (DM)    done                                 -
    /digest unsubscribe        outsider (DM)   refused error-dm-unknown-person      -
    /sla report                requester       refused error-report-staff-only      -
    /sla report                other employee  refused error-report-staff-only      -
    /sla report                IT manager      done                                 -
    /sla report                IT tech         done                                 -
    /sla report                MSP engineer    done                                 -
    /sla report                MSP lead        done                                 -
    /sla report                on-call (DM)    refused error-client-option-needed   -
    /sla report                outsider (DM)   refused error-dm-unknown-person      -
    /sla report BRIGHT         requester       refused error-report-staff-only      -
    /sla report BRIGHT         other employee  refused error-report-staff-only      -
    /sla report BRIGHT         IT manager      refused error-report-other-client    -
    /sla report BRIGHT         IT tech         refused error-report-other-client    -
    /sla report BRIGHT         MSP engineer    done                                 -
    /sla report BRIGHT         MSP lead        done                                 -
    /sla report BRIGHT         on-call (DM)    done                                 -
    /sla report BRIGHT         outsider (DM)   refused error-dm-unknown-person      -
    ");
}

/// Notes of each side, in every open task of Acme, for the requester test.
const IT_NOTE: &str = "notaitmarmotta";
const MSP_NOTE: &str = "notamspfenicottero";

/// Requesters (the one who asked and another employee) never read a note
/// of either side in any answer of the table: every command, button, form
/// and draft button, on a world where each of Acme's tasks carries a note
/// of internal IT and one of the MSP. The staff's `/task show` does show
/// their own side's note, so the check looks where a leak would be.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requesters_read_no_internal_note_in_any_answer() {
    let it_tech = ROLES.iter().find(|r| r.name == "IT tech").unwrap();
    let engineer = ROLES.iter().find(|r| r.name == "MSP engineer").unwrap();
    let requesters: Vec<&Role> = ROLES
        .iter()
        .filter(|r| r.name == "requester" || r.name == "other employee")
        .collect();
    let mut checked = 0;
    for case in CASES {
        let (bot, _clock) = world().await;
        for n in 1..=3 {
            let id = format!("ACME-{n}");
            for (i, (role, mark)) in [(it_tech, IT_NOTE), (engineer, MSP_NOTE)]
                .iter()
                .enumerate()
            {
                let note = task_slash("note", &id, vec![("text", text(mark))]);
                let answer = bot
                    .handle_typed(&origin(role, 5_000 + 10 * n + i as u64), &note)
                    .await;
                assert!(answer.is_ok(), "the note was refused: {answer:?}");
            }
        }
        let shown = |role: &Role| {
            let i = task_slash("show", "ACME-1", vec![]);
            let bot = bot.clone();
            let o = origin(role, 6_000);
            async move { words(&bot.handle_typed(&o, &i).await.unwrap()) }
        };
        assert!(shown(it_tech).await.contains(IT_NOTE));
        assert!(shown(engineer).await.contains(MSP_NOTE));
        for role in &requesters {
            let draft = DraftCtx {
                source: TargetMessage {
                    id: ACME_SOURCE,
                    channel: role.channel,
                    author: 9001,
                    content: format!("the meeting room projector flickers again {ACME_MARK}"),
                    sent_at: now().as_second() - 60,
                },
                presser: role.user,
            };
            let interaction = (case.build)(&task_id("ACME", case.target), &draft);
            if let Ok(answer) = bot.handle_typed(&origin(role, 7_000), &interaction).await {
                let words = words(&answer);
                checked += 1;
                for mark in [IT_NOTE, MSP_NOTE] {
                    assert!(
                        !words.contains(mark),
                        "{} by {} showed the note {mark:?}: {words}",
                        case.name,
                        role.name
                    );
                }
            }
        }
    }
    assert!(checked > 10, "too few answers were checked: {checked}");
}
