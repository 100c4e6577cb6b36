//! What the `ponte` command runs besides the bot itself: [`load`], the
//! load generator (`ponte load`).

pub mod load;
