use taskflow::prelude::*;

struct Connection;

#[task]
fn query(conn: Connection) -> u64 {
    let _ = conn;
    1
}

#[dag]
fn pipeline() {
    query(Connection);
}

fn main() {}
