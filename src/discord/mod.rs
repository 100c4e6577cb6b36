//! The Discord adapter: the only code that knows serenity. It turns
//! interactions into Ponte's own requests at the edge and renders Ponte's
//! answers (embeds, buttons, threads) back.

pub mod identity;
pub mod invocation;
pub mod parse;
