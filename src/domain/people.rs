//! People, their side of the bridge and their roles.
//!
//! `Side`: internal IT or the MSP. `Role`: what a person does; every role but the plain
//! requester belongs to one side. `Actor`: a person acting now, as the adapters resolved
//! them from the chat, with their side, roles and the clients they act for
//! (`ClientScope`); `Actor::serves` is the check behind client isolation.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::ids::{ClientKey, PersonId};

/// The two sides of a client: the company's own IT team and the MSP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The company's internal IT team (and the company's employees).
    Internal,
    /// The Managed Service Provider.
    Msp,
}

impl Side {
    pub const ALL: [Side; 2] = [Side::Internal, Side::Msp];

    pub fn other(self) -> Side {
        match self {
            Side::Internal => Side::Msp,
            Side::Msp => Side::Internal,
        }
    }

    /// Stable lower-case name, used in storage keys, config and message arguments.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Internal => "internal",
            Side::Msp => "msp",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who reads a text: one side's staff, or the company's requesters and
/// employees (who are of the company but not its IT staff). Every text
/// Ponte shows has one of these three audiences; a side's internal notes
/// reach only that side's staff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// The staff of a side: the IT manager and technicians, or the MSP's
    /// engineers and lead.
    Staff(Side),
    /// Requesters and employees: shared text only.
    Requesters,
}

impl Audience {
    pub const ALL: [Audience; 3] = [
        Audience::Staff(Side::Internal),
        Audience::Staff(Side::Msp),
        Audience::Requesters,
    ];
}

/// What a person does. Everybody may ask for things (`Requester`); the other
/// roles belong to one side each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Requester,
    ItManager,
    ItTechnician,
    MspEngineer,
    MspLead,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Requester,
        Role::ItManager,
        Role::ItTechnician,
        Role::MspEngineer,
        Role::MspLead,
    ];

    /// The side a role works for; `None` for the plain requester.
    pub fn side(self) -> Option<Side> {
        match self {
            Role::Requester => None,
            Role::ItManager | Role::ItTechnician => Some(Side::Internal),
            Role::MspEngineer | Role::MspLead => Some(Side::Msp),
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A small set of roles.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RoleSet(u8);

impl RoleSet {
    pub fn empty() -> Self {
        Self(0)
    }

    pub fn with(mut self, role: Role) -> Self {
        self.0 |= role.bit();
        self
    }

    pub fn contains(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| self.contains(*r))
    }
}

impl FromIterator<Role> for RoleSet {
    fn from_iter<T: IntoIterator<Item = Role>>(iter: T) -> Self {
        iter.into_iter().fold(RoleSet::empty(), RoleSet::with)
    }
}

impl fmt::Debug for RoleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// Which clients a person acts for. People of a company belong to exactly one
/// client; MSP people serve some or all of the MSP's clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientScope {
    Only(ClientKey),
    Some(BTreeSet<ClientKey>),
    All,
}

impl ClientScope {
    pub fn includes(&self, client: &ClientKey) -> bool {
        match self {
            ClientScope::Only(c) => c == client,
            ClientScope::Some(set) => set.contains(client),
            ClientScope::All => true,
        }
    }
}

/// Somebody doing something, as the adapters resolved them from the chat:
/// their id, their side, their roles and the clients they act for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub person: PersonId,
    pub side: Side,
    pub roles: RoleSet,
    pub clients: ClientScope,
}

impl Actor {
    /// An employee of `client` with no IT role.
    pub fn employee(person: PersonId, client: ClientKey) -> Self {
        Self {
            person,
            side: Side::Internal,
            roles: RoleSet::empty().with(Role::Requester),
            clients: ClientScope::Only(client),
        }
    }

    pub fn serves(&self, client: &ClientKey) -> bool {
        self.clients.includes(client)
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(role)
    }

    /// Whether this person works tasks for `side`: an IT manager or technician
    /// for the internal side, an MSP engineer or lead for the MSP.
    pub fn works_for(&self, side: Side) -> bool {
        self.side == side && self.roles.iter().any(|r| r.side() == Some(side))
    }

    /// Whom this person reads as: their side's staff when they work for it,
    /// otherwise a requester (an employee, or anybody without a side role).
    pub fn audience(&self) -> Audience {
        if self.works_for(self.side) {
            Audience::Staff(self.side)
        } else {
            Audience::Requesters
        }
    }

    /// The person who holds the company's territory.
    pub fn is_it_manager(&self) -> bool {
        self.side == Side::Internal && self.has(Role::ItManager)
    }

    /// The person who leads the handling side: the IT manager or the MSP lead.
    pub fn leads(&self, side: Side) -> bool {
        match side {
            Side::Internal => self.is_it_manager(),
            Side::Msp => self.side == Side::Msp && self.has(Role::MspLead),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_sets_hold_what_was_put_in() {
        let set: RoleSet = [Role::ItManager, Role::Requester].into_iter().collect();
        assert!(set.contains(Role::ItManager));
        assert!(set.contains(Role::Requester));
        assert!(!set.contains(Role::MspLead));
        assert_eq!(set.iter().count(), 2);
    }

    #[test]
    fn only_side_roles_make_a_worker() {
        let acme = ClientKey::new("ACME").unwrap();
        let employee = Actor::employee(PersonId(1), acme.clone());
        assert!(!employee.works_for(Side::Internal));
        let tech = Actor {
            roles: RoleSet::empty().with(Role::ItTechnician),
            ..employee.clone()
        };
        assert!(tech.works_for(Side::Internal));
        assert!(!tech.works_for(Side::Msp));
        assert!(!tech.leads(Side::Internal));
        assert_eq!(employee.audience(), Audience::Requesters);
        assert_eq!(tech.audience(), Audience::Staff(Side::Internal));
    }
}
