//! A fresh folder for one test's files (a store, a log), removed when dropped.

use std::path::{Path, PathBuf};

/// A folder under the system's temporary one, unique to this process and test.
pub struct Folder(PathBuf);

impl Folder {
    /// The folder `taskflow-<suite>-<pid>-<test>`, emptied if it was there.
    ///
    /// # Panics
    /// If it cannot be made: the test needs it.
    pub fn new(suite: &str, test: &str) -> Self {
        let path =
            std::env::temp_dir().join(format!("taskflow-{suite}-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a folder for the test");
        Self(path)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The file `name` in the folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
