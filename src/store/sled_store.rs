//! The sled implementation of [`super::Store`] (to be written).
