//! The sandbox's demo world: the MSP and the two clients of
//! `config/ponte.example.toml`, their Discord servers, channels and roles,
//! and the people who work there.

use crate::emulator::{GuildSpec, World};

/// The configuration the sandbox runs with.
pub const CONFIG: &str = include_str!("../../config/ponte.example.toml");

pub const MSP_GUILD: u64 = 1085128205926531072;
pub const MSP_QUEUE: u64 = 1085128210276024321;
pub const MSP_ENGINEER_ROLE: u64 = 1085128214625517570;
pub const MSP_LEAD_ROLE: u64 = 1085128218975010819;
/// ACME's channel in the MSP's server.
pub const MSP_ACME: u64 = 1085128223324504068;

pub const ACME_GUILD: u64 = 1148173150060675072;
pub const ACME_REQUESTS: u64 = 1148173162798776321;
pub const ACME_IT: u64 = 1148173175536877570;
pub const ACME_IT_MANAGER: u64 = 1148173188274978819;
pub const ACME_IT_TECH: u64 = 1148173201013080068;

pub const BRIGHT_GUILD: u64 = 1198991878389891072;
pub const BRIGHT_REQUESTS: u64 = 1198991886933688321;
pub const BRIGHT_IT: u64 = 1198991895477485570;
pub const BRIGHT_MSP: u64 = 1198991904021282819;
pub const BRIGHT_IT_MANAGER: u64 = 1198991912565080068;
pub const BRIGHT_IT_TECH: u64 = 1198991921108877317;
/// The MSP's role inside Brightline's server (the MSP works there).
pub const BRIGHT_MSP_ENGINEER: u64 = 1198991929652674566;

/// Every channel of the demo: server, id, name.
pub const CHANNELS: &[(u64, u64, &str)] = &[
    (ACME_GUILD, ACME_REQUESTS, "richieste"),
    (ACME_GUILD, ACME_IT, "it-interno"),
    (BRIGHT_GUILD, BRIGHT_REQUESTS, "requests"),
    (BRIGHT_GUILD, BRIGHT_IT, "it-team"),
    (BRIGHT_GUILD, BRIGHT_MSP, "nordhaven"),
    (MSP_GUILD, MSP_QUEUE, "queue"),
    (MSP_GUILD, MSP_ACME, "acme"),
];

/// Somebody in the demo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Person {
    pub name: &'static str,
    pub id: u64,
    pub locale: &'static str,
    /// Where they act unless a script says otherwise.
    pub guild: u64,
    pub channel: u64,
    pub about: &'static str,
    /// The time zone their device shows times in (Discord renders
    /// `<t:…>` in the reader's own zone).
    pub zone: &'static str,
}

/// The people of the demo.
pub const PEOPLE: &[Person] = &[
    Person {
        name: "giulia",
        id: 9001,
        locale: "it",
        guild: ACME_GUILD,
        channel: ACME_REQUESTS,
        about: "employee at Acme (Italian)",
        zone: "Europe/Rome",
    },
    Person {
        name: "marco",
        id: 9002,
        locale: "it",
        guild: ACME_GUILD,
        channel: ACME_IT,
        about: "Acme's IT manager",
        zone: "Europe/Rome",
    },
    Person {
        name: "sara",
        id: 9003,
        locale: "it",
        guild: ACME_GUILD,
        channel: ACME_IT,
        about: "Acme's IT technician",
        zone: "Europe/Rome",
    },
    Person {
        name: "alice",
        id: 9011,
        locale: "en-GB",
        guild: BRIGHT_GUILD,
        channel: BRIGHT_REQUESTS,
        about: "employee at Brightline",
        zone: "Europe/London",
    },
    Person {
        name: "ben",
        id: 9012,
        locale: "en-GB",
        guild: BRIGHT_GUILD,
        channel: BRIGHT_IT,
        about: "Brightline's IT manager",
        zone: "Europe/London",
    },
    Person {
        name: "carol",
        id: 9013,
        locale: "en-GB",
        guild: BRIGHT_GUILD,
        channel: BRIGHT_IT,
        about: "Brightline's IT technician",
        zone: "Europe/London",
    },
    Person {
        name: "mike",
        id: 9021,
        locale: "en-US",
        guild: MSP_GUILD,
        channel: MSP_ACME,
        about: "MSP engineer (also in Brightline's server)",
        zone: "Europe/Berlin",
    },
    Person {
        name: "paolo",
        id: 9022,
        locale: "it",
        guild: MSP_GUILD,
        channel: MSP_ACME,
        about: "MSP engineer",
        zone: "Europe/Rome",
    },
    Person {
        name: "lena",
        id: 9023,
        locale: "en-US",
        guild: MSP_GUILD,
        channel: MSP_QUEUE,
        about: "MSP lead",
        zone: "Europe/Berlin",
    },
];

pub fn person(name: &str) -> Option<&'static Person> {
    let name = name.trim_start_matches('@').to_ascii_lowercase();
    PEOPLE.iter().find(|p| p.name == name)
}

/// The roles of the demo's servers: server, id, name.
pub const ROLES: &[(u64, u64, &str)] = &[
    (ACME_GUILD, ACME_IT_MANAGER, "Responsabile IT"),
    (ACME_GUILD, ACME_IT_TECH, "Tecnico IT"),
    (BRIGHT_GUILD, BRIGHT_IT_MANAGER, "IT manager"),
    (BRIGHT_GUILD, BRIGHT_IT_TECH, "IT technician"),
    (BRIGHT_GUILD, BRIGHT_MSP_ENGINEER, "Nordhaven"),
    (MSP_GUILD, MSP_ENGINEER_ROLE, "Engineer"),
    (MSP_GUILD, MSP_LEAD_ROLE, "Lead"),
];

fn role_name(id: u64) -> &'static str {
    ROLES
        .iter()
        .find(|(_, r, _)| *r == id)
        .map_or("role", |(_, _, name)| name)
}

/// The Discord servers of the demo, with everyone in them.
pub fn world() -> World {
    let channels = |mut guild: GuildSpec, id: u64| {
        for (g, channel, name) in CHANNELS {
            if *g == id {
                guild = guild.text_channel(*channel, name);
            }
        }
        guild
    };
    let acme = channels(GuildSpec::new(ACME_GUILD, "Acme Manufacturing"), ACME_GUILD)
        .locale("it")
        .role(ACME_IT_MANAGER, role_name(ACME_IT_MANAGER))
        .role(ACME_IT_TECH, role_name(ACME_IT_TECH))
        .member(9001, &[])
        .member(9002, &[ACME_IT_MANAGER])
        .member(9003, &[ACME_IT_TECH]);
    let bright = channels(
        GuildSpec::new(BRIGHT_GUILD, "Brightline Logistics"),
        BRIGHT_GUILD,
    )
    .role(BRIGHT_IT_MANAGER, role_name(BRIGHT_IT_MANAGER))
    .role(BRIGHT_IT_TECH, role_name(BRIGHT_IT_TECH))
    .role(BRIGHT_MSP_ENGINEER, role_name(BRIGHT_MSP_ENGINEER))
    .member(9011, &[])
    .member(9012, &[BRIGHT_IT_MANAGER])
    .member(9013, &[BRIGHT_IT_TECH])
    .member(9021, &[BRIGHT_MSP_ENGINEER]);
    let msp = channels(
        GuildSpec::new(MSP_GUILD, "Nordhaven IT Services"),
        MSP_GUILD,
    )
    .role(MSP_ENGINEER_ROLE, role_name(MSP_ENGINEER_ROLE))
    .role(MSP_LEAD_ROLE, role_name(MSP_LEAD_ROLE))
    .member(9021, &[MSP_ENGINEER_ROLE])
    .member(9022, &[MSP_ENGINEER_ROLE])
    .member(9023, &[MSP_LEAD_ROLE, MSP_ENGINEER_ROLE]);
    let mut world = World::new().guild(acme).guild(bright).guild(msp);
    for p in PEOPLE {
        world = world.user(p.id, p.name, p.locale);
    }
    world
}
