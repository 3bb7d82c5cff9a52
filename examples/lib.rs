//! The examples of taskflow. Each file beside this one is a program to run with
//! `cargo run --example NAME` and to copy as a template; this library only hosts them.
