//! `multiple_outputs`: a task returning a tuple gives a handle per part.

use taskflow::Error;
use taskflow::prelude::*;

#[task(multiple_outputs)]
fn split(line: String) -> (String, u32) {
    let (name, count) = line.split_once('=').unwrap();
    (name.to_string(), count.parse().unwrap())
}

#[task(multiple_outputs)]
async fn split_checked(line: String) -> Result<(String, u32, bool), TaskError> {
    let (name, count) = line
        .split_once('=')
        .ok_or_else(|| TaskError::msg("no `=`"))?;
    Ok((name.to_string(), count.parse()?, true))
}

#[task]
fn shout(name: String) -> String {
    name.to_uppercase()
}

#[task]
fn double(count: u32) -> u32 {
    count * 2
}

#[test]
fn each_part_is_wired_on_its_own_with_its_type() {
    let report = Dag::build("parts", || {
        let (name, count) = split("apples=21");
        shout(name);
        double(count);
        let (name, count, flag) = split_checked("pears=4");
        shout(name);
        double(count);
        let _: Xcom<bool> = flag;
        split_checked::with("bad").add("no separator");
    })
    .unwrap()
    .test()
    .unwrap();
    assert_eq!(report.xcom::<String>("shout").unwrap(), "APPLES");
    assert_eq!(report.xcom::<u32>("double").unwrap(), 42);
    assert_eq!(report.xcom::<String>("shout__1").unwrap(), "PEARS");
    assert_eq!(report.xcom::<u32>("double__1").unwrap(), 8);
    assert_eq!(report.xcom_at::<u32>("split", 1).unwrap(), 21);
    assert!(report.xcom_at::<bool>("split_checked", 2).unwrap());
    assert!(matches!(
        report.xcom::<(String, u32)>("split"),
        Err(Error::XcomMissing { .. })
    ));
    assert!(report.xcom_at::<u32>("split", 2).is_err());
    assert_eq!(report.state("bad"), TaskState::Failed);
    assert_eq!(report.error("bad").as_deref(), Some("no `=`"));
}

#[tokio::test]
async fn parts_move_to_their_single_reader_in_run() {
    let report = Dag::build("moved_parts", || {
        let (name, count) = split("plums=5");
        shout(name);
        double(count);
    })
    .unwrap()
    .run()
    .await
    .unwrap();
    assert_eq!(report.xcom::<u32>("double").unwrap(), 10);
    assert!(
        report
            .xcom_at::<String>("split", 0)
            .unwrap_err()
            .to_string()
            .contains("moved")
    );
}
