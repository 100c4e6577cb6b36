//! Notifying outside chat: the pagers Ponte calls (PagerDuty Events v2 and
//! a signed generic webhook). The app decides when to page; this code only
//! talks to the pager's HTTP endpoint.

pub mod pager;
