//! Who someone is, from where they are in Discord: the server tells the
//! client, the roles tell the side and the job. Plain data in, an `Actor`
//! out.

use std::collections::BTreeSet;

use crate::config::{ClientConfig, Config};
use crate::domain::{Actor, ClientKey, ClientScope, PersonId, Role, RoleSet, Side, UserError};
use crate::i18n::Lang;

/// A person resolved in a place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub actor: Actor,
    /// The client this place belongs to, when it belongs to one (a client's
    /// server, or a client's channel in the MSP's server).
    pub client: Option<ClientKey>,
    /// The language of the place, when the person's own is not known.
    pub lang: Lang,
}

/// Resolves `user` with `roles`, acting in `channel` of `guild`.
pub fn resolve(
    config: &Config,
    guild: Option<u64>,
    channel: u64,
    user: u64,
    roles: &[u64],
) -> Result<Resolved, UserError> {
    let Some(guild) = guild else {
        return on_call_in_dm(config, user).ok_or(UserError::UseInServer);
    };
    let has = |role: Option<u64>| role.is_some_and(|r| roles.contains(&r));
    if let Some(client) = config.client_by_guild(guild) {
        return Ok(in_client_guild(client, user, &has));
    }
    if let Some(server) = config.msp().server.filter(|s| s.guild_id.get() == guild) {
        let mut set = RoleSet::empty().with(Role::Requester);
        if has(Some(server.engineer_role.get())) {
            set = set.with(Role::MspEngineer);
        }
        if has(Some(server.lead_role.get())) {
            set = set.with(Role::MspLead);
        }
        let client = config
            .clients()
            .iter()
            .find(|c| c.channels.msp.is_some_and(|m| m.get() == channel))
            .map(|c| c.key.clone());
        return Ok(Resolved {
            actor: Actor {
                person: PersonId(user),
                side: Side::Msp,
                roles: set,
                clients: ClientScope::All,
            },
            client,
            lang: config.msp().language,
        });
    }
    Err(UserError::UnknownServer)
}

fn in_client_guild(
    client: &ClientConfig,
    user: u64,
    has: &dyn Fn(Option<u64>) -> bool,
) -> Resolved {
    let r = &client.roles;
    let msp_roles: Vec<Role> = [
        (r.msp_engineer, Role::MspEngineer),
        (r.msp_lead, Role::MspLead),
    ]
    .into_iter()
    .filter(|(id, _)| has(id.map(|i| i.get())))
    .map(|(_, role)| role)
    .collect();
    let (side, roles, clients) = if msp_roles.is_empty() {
        let it_roles = [
            (r.it_manager, Role::ItManager),
            (r.it_technician, Role::ItTechnician),
        ]
        .into_iter()
        .filter(|(id, _)| has(Some(id.get())))
        .map(|(_, role)| role);
        (
            Side::Internal,
            it_roles.chain([Role::Requester]).collect::<RoleSet>(),
            ClientScope::Only(client.key.clone()),
        )
    } else {
        // The MSP's people in a client's server act for that client there.
        (
            Side::Msp,
            msp_roles.into_iter().chain([Role::Requester]).collect(),
            ClientScope::Some(BTreeSet::from([client.key.clone()])),
        )
    };
    Resolved {
        actor: Actor {
            person: PersonId(user),
            side,
            roles,
            clients,
        },
        client: Some(client.key.clone()),
        lang: client.language,
    }
}

/// In a DM (a page's buttons, issue 5), someone in one of the MSP's on-call
/// rotations acts as an MSP engineer; anybody else is asked to use a server.
fn on_call_in_dm(config: &Config, user: u64) -> Option<Resolved> {
    let member =
        config.oncall().schedules.iter().any(|s| {
            s.side == Side::Msp && s.schedule.rotation().members().contains(&PersonId(user))
        });
    member.then(|| Resolved {
        actor: Actor {
            person: PersonId(user),
            side: Side::Msp,
            roles: RoleSet::empty().with(Role::MspEngineer),
            clients: ClientScope::All,
        },
        client: None,
        lang: config.msp().language,
    })
}

/// In a DM, someone on call only through an override (`/oncall override`,
/// gaps): they act as an MSP engineer if they are on call now in one of the
/// MSP's schedules (`schedules` with the recorded overrides applied), or if
/// the task's `events` show they were paged for it as an MSP schedule's
/// on-call. Anybody else gets `None`.
pub fn on_call_by_override_in_dm(
    config: &Config,
    user: u64,
    schedules: &[crate::config::oncall::OnCallSchedule],
    now: jiff::Timestamp,
    events: &[crate::domain::event::Event],
) -> Option<Resolved> {
    use crate::domain::escalation::Target;
    use crate::domain::event::EventKind;
    let me = PersonId(user);
    let msp_schedule = |name: &str| {
        schedules
            .iter()
            .any(|s| s.side == Side::Msp && s.schedule.name() == name)
    };
    let on_call_now = schedules
        .iter()
        .any(|s| s.side == Side::Msp && s.schedule.on_call(now).person == me);
    let paged = events.iter().any(|e| match &e.kind {
        EventKind::Paged {
            target: Target::OnCall(schedule),
            to,
            ..
        }
        | EventKind::Escalated {
            target: Target::OnCall(schedule),
            to,
            ..
        } => *to == Some(me) && msp_schedule(schedule),
        _ => false,
    });
    (on_call_now || paged).then(|| Resolved {
        actor: Actor {
            person: me,
            side: Side::Msp,
            roles: RoleSet::empty().with(Role::MspEngineer),
            clients: ClientScope::All,
        },
        client: None,
        lang: config.msp().language,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::from_toml_str(
            include_str!("../../../config/ponte.example.toml"),
            "ponte.example.toml",
        )
        .unwrap()
    }

    const ACME_GUILD: u64 = 1148173150060675072;
    const ACME_REQUESTS: u64 = 1148173162798776321;
    const ACME_IT_MANAGER: u64 = 1148173188274978819;
    const MSP_GUILD: u64 = 1085128205926531072;
    const MSP_ENGINEER: u64 = 1085128214625517570;
    const ACME_MSP_CHANNEL: u64 = 1085128223324504068;

    #[test]
    fn a_client_server_gives_the_client_and_roles_give_the_job() {
        let config = config();
        let employee = resolve(&config, Some(ACME_GUILD), ACME_REQUESTS, 7, &[]).unwrap();
        assert_eq!(
            employee.client.as_ref().map(ClientKey::as_str),
            Some("ACME")
        );
        assert_eq!(employee.actor.side, Side::Internal);
        assert!(!employee.actor.works_for(Side::Internal));
        assert_eq!(employee.lang, Lang::It);
        let manager = resolve(
            &config,
            Some(ACME_GUILD),
            ACME_REQUESTS,
            8,
            &[ACME_IT_MANAGER],
        )
        .unwrap();
        assert!(manager.actor.is_it_manager());
        assert!(!manager.actor.serves(&ClientKey::new("BRIGHT").unwrap()));
    }

    #[test]
    fn the_msp_server_serves_every_client_and_its_channels_name_one() {
        let config = config();
        let engineer = resolve(
            &config,
            Some(MSP_GUILD),
            ACME_MSP_CHANNEL,
            9,
            &[MSP_ENGINEER],
        )
        .unwrap();
        assert!(engineer.actor.works_for(Side::Msp));
        assert!(engineer.actor.serves(&ClientKey::new("BRIGHT").unwrap()));
        assert_eq!(
            engineer.client.as_ref().map(ClientKey::as_str),
            Some("ACME")
        );
        let elsewhere = resolve(&config, Some(MSP_GUILD), 1, 9, &[MSP_ENGINEER]).unwrap();
        assert_eq!(elsewhere.client, None);
    }

    #[test]
    fn unknown_servers_and_direct_messages_are_refused_with_a_reason() {
        let config = config();
        assert_eq!(
            resolve(&config, Some(42), 1, 9, &[]),
            Err(UserError::UnknownServer)
        );
        assert_eq!(
            resolve(&config, None, 1, 9, &[]),
            Err(UserError::UseInServer)
        );
    }

    #[test]
    fn someone_on_call_through_an_override_may_press_page_buttons_in_a_dm() {
        use crate::domain::escalation::Target;
        use crate::domain::event::{Event, EventKind};
        use crate::domain::oncall::Override;
        use crate::domain::{TaskId, Who};
        let config = config();
        const STAND_IN: u64 = 4242;
        let now: jiff::Timestamp = "2026-11-28T03:00:00Z".parse().unwrap();
        let later: jiff::Timestamp = "2026-12-05T03:00:00Z".parse().unwrap();
        let mut schedules = config.oncall().schedules.clone();
        let msp = schedules
            .iter()
            .position(|s| s.side == Side::Msp)
            .expect("the example has an MSP rotation");
        let name = schedules[msp].schedule.name().to_owned();
        assert!(
            !schedules[msp]
                .schedule
                .rotation()
                .members()
                .contains(&PersonId(STAND_IN))
        );
        // Not a member of any rotation: refused in a DM.
        assert_eq!(
            resolve(&config, None, 1, STAND_IN, &[]),
            Err(UserError::UseInServer)
        );
        assert_eq!(
            on_call_by_override_in_dm(&config, STAND_IN, &schedules, now, &[]),
            None
        );
        // On call now through an override: an MSP engineer there.
        let until: jiff::Timestamp = "2026-11-28T08:00:00Z".parse().unwrap();
        schedules[msp]
            .schedule
            .add_override(Override::new(PersonId(STAND_IN), now, until).unwrap())
            .unwrap();
        let who = on_call_by_override_in_dm(&config, STAND_IN, &schedules, now, &[])
            .expect("on call now through the override");
        assert!(who.actor.works_for(Side::Msp));
        assert!(who.actor.roles.contains(Role::MspEngineer));
        assert_eq!(who.actor.person, PersonId(STAND_IN));
        // Once the override is over, only a page for the task lets them act.
        assert_eq!(
            on_call_by_override_in_dm(&config, STAND_IN, &schedules, later, &[]),
            None
        );
        let paged = |to: u64, target: Target| Event {
            task: TaskId::new(ClientKey::new("ACME").unwrap(), 1),
            seq: 2,
            at: now,
            by: Who::Ponte,
            kind: EventKind::Paged {
                key: "page:ACME-1@1:r0:s0".into(),
                round: 0,
                step: 0,
                target,
                to: Some(PersonId(to)),
                late: false,
                skipped: Vec::new(),
            },
        };
        assert!(
            on_call_by_override_in_dm(
                &config,
                STAND_IN,
                &schedules,
                later,
                &[paged(STAND_IN, Target::OnCall(name.clone()))]
            )
            .is_some()
        );
        // Somebody else's page, or a page for a schedule that is not the
        // MSP's, does not.
        assert_eq!(
            on_call_by_override_in_dm(
                &config,
                STAND_IN,
                &schedules,
                later,
                &[paged(7, Target::OnCall(name))]
            ),
            None
        );
        assert_eq!(
            on_call_by_override_in_dm(
                &config,
                STAND_IN,
                &schedules,
                later,
                &[paged(STAND_IN, Target::OnCall("nobody".into()))]
            ),
            None
        );
    }
}
