//! Turns the inputs named on the command line (files, directories, `-`, and list files given
//! with `--files-from`) into an ordered list of sources, checking that each one exists first.

use std::path::{Path, PathBuf};

use crate::data::Source;
use crate::error::{Error, Result};

/// The extension of the articles taken from a directory.
pub const ARTICLE_EXTENSION: &str = "txt";

/// Expands `inputs` in order, then the files listed in `files_from` (one path a line; blank
/// lines and lines starting with `#` are skipped; relative paths are taken from the current
/// directory, as `tar -T` does). A directory stands for its `.txt` files (not those of its
/// subdirectories), sorted by name. `-` is standard input. Every file is checked to exist, so
/// that a long run does not stop halfway on a typo: a missing input is an error naming it, and
/// a missing listed file an error naming the list and the line.
pub fn expand(inputs: &[String], files_from: Option<&Path>) -> Result<Vec<Source>> {
    let mut sources = Vec::new();
    for input in inputs {
        match Source::from_arg(input) {
            Source::Stdin => sources.push(Source::Stdin),
            Source::Path(path) => expand_path(&path, &mut sources, None)?,
        }
    }
    if let Some(list) = files_from {
        let before = sources.len();
        expand_list(list, &mut sources)?;
        if sources.len() == before {
            return Err(Error::file(list, "lists no files (one path a line is expected)"));
        }
    }
    Ok(sources)
}

/// Adds `path`, or the articles of the directory `path`. `listed` is the list file and line
/// that named it, for messages.
fn expand_path(path: &Path, sources: &mut Vec<Source>, listed: Option<(&Path, u64)>) -> Result<()> {
    let problem = |message: String| match listed {
        Some((list, line)) => Error::data(list, line, format!("{}: {message}", path.display())),
        None => Error::file(path, message),
    };
    let metadata = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            problem("does not exist".into())
        } else {
            problem(format!("cannot be read: {e}"))
        }
    })?;
    if !metadata.is_dir() {
        sources.push(Source::Path(path.to_path_buf()));
        return Ok(());
    }
    let mut articles: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| problem(format!("cannot list the directory: {e}")))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|e| e.eq_ignore_ascii_case(ARTICLE_EXTENSION)) && p.is_file()
        })
        .collect();
    if articles.is_empty() {
        return Err(problem(format!(
            "is a directory with no .{ARTICLE_EXTENSION} files; articles are read from the .{ARTICLE_EXTENSION} files directly in it"
        )));
    }
    articles.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    sources.extend(articles.into_iter().map(Source::Path));
    Ok(())
}

fn expand_list(list: &Path, sources: &mut Vec<Source>) -> Result<()> {
    if list.is_dir() {
        return Err(Error::file(list, "is a directory; --files-from takes a file with one path a line"));
    }
    let bytes = std::fs::read(list).map_err(|e| Error::io(list, "reading the list of files", e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()].iter().filter(|&&b| b == b'\n').count();
        Error::data(list, line as u64, "not valid UTF-8")
    })?;
    for (index, line) in text.lines().enumerate() {
        let entry = line.trim_start_matches('\u{feff}').trim();
        if entry.is_empty() || entry.starts_with('#') {
            continue;
        }
        let line_number = index as u64 + 1;
        if entry == "-" {
            return Err(Error::data(list, line_number, "'-' (standard input) cannot be listed; give it on the command line"));
        }
        expand_path(Path::new(entry), sources, Some((list, line_number)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(sources: &[Source]) -> Vec<String> {
        sources
            .iter()
            .map(|s| match s {
                Source::Path(p) => p.file_name().unwrap().to_string_lossy().into_owned(),
                Source::Stdin => "-".into(),
            })
            .collect()
    }

    #[test]
    fn directories_give_their_txt_files_sorted_by_name() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.txt", "a.TXT", "c.csv", "10.txt", "2.txt"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub.txt")).unwrap();
        let sources = expand(&[dir.path().display().to_string(), "-".into()], None).unwrap();
        assert_eq!(names(&sources), vec!["10.txt", "2.txt", "a.TXT", "b.txt", "-"]);
    }

    #[test]
    fn lists_name_the_line_of_a_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let present = dir.path().join("a.txt");
        std::fs::write(&present, "x").unwrap();
        let list = dir.path().join("list");
        std::fs::write(&list, format!("# articles\n{}\n\n{}/gone.txt\n", present.display(), dir.path().display())).unwrap();
        let error = expand(&[], Some(&list)).unwrap_err().to_string();
        assert!(error.contains("list line 4"), "{error}");
        assert!(error.contains("gone.txt: does not exist"), "{error}");
        std::fs::write(&list, format!("{}\n", present.display())).unwrap();
        assert_eq!(names(&expand(&[], Some(&list)).unwrap()), vec!["a.txt"]);
        std::fs::write(&list, "# nothing\n\n").unwrap();
        assert!(expand(&[], Some(&list)).unwrap_err().to_string().contains("lists no files"));
    }

    #[test]
    fn an_empty_directory_and_a_missing_file_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let error = expand(&[dir.path().display().to_string()], None).unwrap_err().to_string();
        assert!(error.contains("no .txt files"), "{error}");
        let error = expand(&["no-such-article.txt".into()], None).unwrap_err().to_string();
        assert_eq!(error, "no-such-article.txt: does not exist");
    }
}
