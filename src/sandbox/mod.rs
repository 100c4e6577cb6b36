//! The sandbox: Ponte against the local Discord emulator, with a demo MSP
//! and two clients, driven by people typing (or a script of) what users do.

pub mod script;
