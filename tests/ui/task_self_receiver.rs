use taskflow::prelude::*;

struct Loader {
    base: u64,
}

impl Loader {
    #[task]
    fn load(&self, x: u64) -> u64 {
        self.base + x
    }
}

fn main() {
    let _ = Loader { base: 1 }.load(2);
}
