//! Never a mention of another server. A role or channel mention (`<@&id>`,
//! `<#id>`) only means something in its own server: elsewhere Discord shows
//! an unknown role or channel. The MSP often has its own server, so a text
//! bound for one server (a client's thread, the MSP's mirror, an answer
//! where the person asked) names the roles and channels of the other by
//! what they are ("Nordhaven IT Services' leads", "the MSP's channel for
//! Acme Manufacturing") instead. [`for_server`] does it for a text, from the
//! configuration's roles and channels; ids it does not know (threads) stay.

use crate::config::Config;
use crate::domain::error::Arg;
use crate::i18n::{Lang, Messages};

/// `text` for server `here` (`None`: a direct message, where no role or
/// channel mention works): every role or channel mention the configuration
/// places in another server is replaced by its name.
pub fn for_server(
    text: &str,
    here: Option<u64>,
    config: &Config,
    messages: &Messages,
    lang: Lang,
) -> String {
    super::markup::rewrite(text, |inner| {
        let (kind, id) = match inner.strip_prefix("@&") {
            Some(id) => (Kind::Role, id),
            None => (Kind::Channel, inner.strip_prefix('#')?),
        };
        let place = place(config, kind, id.parse().ok()?)?;
        (here != Some(place.server)).then(|| place.name(config, messages, lang))
    })
}

/// The server of a configured channel (not of a thread: a thread is in its
/// channel's server).
pub fn server_of(config: &Config, channel: u64) -> Option<u64> {
    place(config, Kind::Channel, channel).map(|p| p.server)
}

#[derive(Clone, Copy)]
enum Kind {
    Role,
    Channel,
}

/// Where a configured role or channel is, and how to name it.
struct Place<'c> {
    server: u64,
    /// The message naming it, with `msp` and `client` arguments.
    message: &'static str,
    client: Option<&'c str>,
}

impl Place<'_> {
    fn name(&self, config: &Config, messages: &Messages, lang: Lang) -> String {
        let mut args = vec![("msp", Arg::Text(config.msp().name.clone()))];
        if let Some(client) = self.client {
            args.push(("client", Arg::Text(client.to_owned())));
        }
        messages.text(lang, self.message, &args)
    }
}

/// The server of a configured role or channel, and its name.
fn place(config: &Config, kind: Kind, id: u64) -> Option<Place<'_>> {
    let msp = config.msp();
    let found = |server: u64, message: &'static str| Place {
        server,
        message,
        client: None,
    };
    if let Some(server) = msp.server {
        let guild = server.guild_id.get();
        match kind {
            Kind::Role if server.engineer_role.get() == id => {
                return Some(found(guild, "place-msp-engineers"));
            }
            Kind::Role if server.lead_role.get() == id => {
                return Some(found(guild, "place-msp-leads"));
            }
            Kind::Channel if server.queue_channel.get() == id => {
                return Some(found(guild, "place-msp-queue"));
            }
            _ => {}
        }
    }
    for client in config.clients() {
        let guild = client.guild_id.get();
        let of = |server: u64, message: &'static str| {
            Some(Place {
                server,
                message,
                client: Some(client.name.as_str()),
            })
        };
        let is = |r: Option<u64>| r == Some(id);
        let found = match kind {
            Kind::Role => {
                let roles = &client.roles;
                if is(Some(roles.it_manager.get())) {
                    of(guild, "place-it-managers")
                } else if is(Some(roles.it_technician.get())) {
                    of(guild, "place-it-technicians")
                } else if is(roles.msp_engineer.map(|r| r.get())) {
                    Some(found(guild, "place-msp-engineers"))
                } else if is(roles.msp_lead.map(|r| r.get())) {
                    Some(found(guild, "place-msp-leads"))
                } else {
                    None
                }
            }
            Kind::Channel => {
                let channels = &client.channels;
                if is(Some(channels.requests.get())) {
                    of(guild, "place-requests")
                } else if is(channels.internal_it.map(|c| c.get())) {
                    of(guild, "place-internal-it")
                } else if is(channels.msp.map(|c| c.get())) {
                    // In the client's server when the MSP works there (it
                    // has a role there), else in the MSP's own.
                    let server = match (client.roles.msp_engineer, msp.server) {
                        (None, Some(server)) => server.guild_id.get(),
                        _ => guild,
                    };
                    of(server, "place-msp-channel")
                } else {
                    None
                }
            }
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example configuration's servers, roles and channels.
    mod cast {
        pub const CONFIG: &str = include_str!("../../../config/ponte.example.toml");
        pub const MSP_GUILD: u64 = 1085128205926531072;
        pub const MSP_LEAD_ROLE: u64 = 1085128218975010819;
        pub const MSP_ACME: u64 = 1085128223324504068;
        pub const ACME_GUILD: u64 = 1148173150060675072;
        pub const ACME_REQUESTS: u64 = 1148173162798776321;
        pub const ACME_IT_MANAGER: u64 = 1148173188274978819;
        pub const BRIGHT_GUILD: u64 = 1198991878389891072;
        pub const BRIGHT_MSP: u64 = 1198991904021282819;
    }

    #[test]
    fn mentions_of_another_server_are_named() {
        let config = Config::from_toml_str(cast::CONFIG, "ponte.example.toml").unwrap();
        let messages = Messages::load().unwrap();
        let text = format!(
            "Paged <@&{}>; see <#{}>, <#{}> and <@&{}>; <#42> <@9001>",
            cast::MSP_LEAD_ROLE,
            cast::MSP_ACME,
            cast::ACME_REQUESTS,
            cast::ACME_IT_MANAGER
        );
        let in_acme = for_server(&text, Some(cast::ACME_GUILD), &config, &messages, Lang::En);
        assert_eq!(
            in_acme,
            format!(
                "Paged Nordhaven IT Services' leads; see the MSP's channel for Acme Manufacturing, <#{}> and <@&{}>; <#42> <@9001>",
                cast::ACME_REQUESTS,
                cast::ACME_IT_MANAGER
            )
        );
        let in_msp = for_server(&text, Some(cast::MSP_GUILD), &config, &messages, Lang::En);
        assert!(in_msp.starts_with(&format!(
            "Paged <@&{}>; see <#{}>,",
            cast::MSP_LEAD_ROLE,
            cast::MSP_ACME
        )));
        assert!(in_msp.contains("the #requests channel of Acme Manufacturing"));
        assert!(in_msp.contains("Acme Manufacturing's IT managers"));
        let in_dm = for_server(&text, None, &config, &messages, Lang::En);
        assert!(!in_dm.contains("<@&") && in_dm.contains("<#42> <@9001>"));
        // Brightline's MSP channel is in Brightline's own server.
        let bright = format!("<#{}>", cast::BRIGHT_MSP);
        let here = for_server(
            &bright,
            Some(cast::BRIGHT_GUILD),
            &config,
            &messages,
            Lang::En,
        );
        assert_eq!(here, bright);
    }
}
