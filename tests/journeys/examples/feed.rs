//! A department's feed inside the cluster: exactly its events, in order,
//! resumed after a restart without repeats, replayed from a time.

use super::*;

async fn the_example_reads_its_departments_feed(example: Example) {
    require_installed();
    let nats = TestNats::new().await;
    nats.js.get_or_create_stream(StreamSettings::default().config(&nats.subjects)).await.unwrap();
    let seen_file = TempFile::new("seen");
    let seen_arg = seen_file.0.to_str().unwrap().to_owned();

    // samr's task of a case, fire's task of the same case, the case's
    // acceptance (samr leads it), a case-level event for nobody.
    let case = uuid::Uuid::new_v4();
    let (samr_task, fire_task) = (uuid::Uuid::new_v4().to_string(), uuid::Uuid::new_v4().to_string());
    let samr_stream = format!("task-{samr_task}");
    let created = envelope(case, "samr", &samr_stream, 1, "TaskCreated", task_created(&samr_task, "samr"));
    let fire = envelope(case, "fire", &format!("task-{fire_task}"), 1, "TaskCreated", task_created(&fire_task, "fire"));
    let accepted = EventEnvelope {
        lead_department: "samr".into(),
        ..envelope(
            case,
            "",
            &format!("case-{case}"),
            2,
            "ApplicationAccepted",
            events::ApplicationAccepted { lead_department: "samr".into(), ..Default::default() }.encode_to_vec(),
        )
    };
    let assigned = envelope(case, "", &format!("case-{case}"), 3, "OfficerAssigned", Vec::new());
    let approved = envelope(
        case,
        "samr",
        &samr_stream,
        2,
        "TaskApproved",
        events::TaskApproved {
            task_id: samr_task.clone(),
            result: Some(common::ResultDocument {
                kind: common::ResultDocumentKind::Licence.into(),
                name: "食品经营许可证".into(),
                number: "JY1-2026-0042".into(),
                issuing_department: "samr".into(),
                ..Default::default()
            }),
            working_days_used: 3,
            on_time: true,
            ..Default::default()
        }
        .encode_to_vec(),
    );
    for e in [&created, &fire, &accepted, &assigned, &approved] {
        publish(&nats, e, false).await;
    }

    // The first run: samr's three events, in order, decoded.
    let first = example.run(&nats, &["--seen-file", &seen_arg]).await;
    let (c, l, a) = (
        Published { event_type: "TaskCreated", event_id: created.event_id.clone() },
        Published { event_type: "ApplicationAccepted", event_id: accepted.event_id.clone() },
        Published { event_type: "TaskApproved", event_id: approved.event_id.clone() },
    );
    assert_eq!(printed(&first), [c.entry(), l.entry(), a.entry()], "{example:?}: exactly samr's events, in order");
    assert_eq!((&first[1]["department"], &first[1]["lead_department"]), (&json!(""), &json!("samr")));
    assert_eq!(first[1]["payload"]["lead_department"], json!("samr"));
    let first = [first[0].clone(), first[2].clone()];
    assert_eq!(first[0]["case_id"], json!(case.to_string()));
    assert_eq!(first[0]["department"], json!("samr"));
    assert_eq!((&first[0]["stream_id"], &first[0]["stream_version"]), (&json!(samr_stream), &json!(1)));
    assert_eq!(first[0]["occurred_at"], json!("2026-09-21T14:13:20Z"));
    let task = &first[0]["payload"];
    assert_eq!(task["task_id"], json!(samr_task));
    assert_eq!(task["department"], json!("samr"));
    assert_eq!(task["item_name"], json!("食品经营许可"));
    assert_eq!(task["due_by"], json!({"year": 2026, "month": 10, "day": 12}));
    assert_eq!(first[1]["stream_version"], json!(2));
    let result = &first[1]["payload"]["result"];
    assert_eq!(result["kind"], json!("RESULT_DOCUMENT_KIND_LICENCE"));
    assert_eq!(result["number"], json!("JY1-2026-0042"));
    assert_eq!(first[1]["payload"]["on_time"], json!(true));

    // Later events: another samr task, and the approval re-published (as
    // after the duplicate window).
    tokio::time::sleep(Duration::from_millis(50)).await;
    let later = chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second_task = uuid::Uuid::new_v4().to_string();
    let created_again =
        envelope(case, "samr", &format!("task-{second_task}"), 1, "TaskCreated", task_created(&second_task, "samr"));
    publish(&nats, &created_again, false).await;
    publish(&nats, &approved, true).await;
    let c2 = Published { event_type: "TaskCreated", event_id: created_again.event_id.clone() };

    // A replay from a time (on samr-replay): what the stream holds for samr
    // from then on (no seen ids kept here, so the re-publication is printed).
    let since = later.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let replay = example.run(&nats, &["--from-time", &since]).await;
    assert_eq!(printed(&replay), [c2.entry(), a.entry()], "{example:?}: the replay from {since}");

    // The feed kept its place: the restart resumes after what it
    // acknowledged, and does not handle the re-publication again.
    let second = example.run(&nats, &["--seen-file", &seen_arg]).await;
    assert_eq!(printed(&second), [c2.entry()], "{example:?}: the restart resumes, the re-publication is not handled");

    // A replay from the beginning: every samr event, each once.
    let everything = example.run(&nats, &["--from-time", "2026-01-01T00:00:00+08:00"]).await;
    assert_eq!(
        printed(&everything),
        [c.entry(), l.entry(), a.entry(), c2.entry()],
        "{example:?}: the replay from the start"
    );

    // And nothing is left on the feed.
    assert_eq!(printed(&example.run(&nats, &[]).await), [], "{example:?}: nothing after the replays");
}

#[tokio::test]
async fn the_python_example_reads_its_departments_feed_resumes_and_replays() {
    the_example_reads_its_departments_feed(Example::Python).await;
}

#[tokio::test]
async fn the_typescript_example_reads_its_departments_feed_resumes_and_replays() {
    the_example_reads_its_departments_feed(Example::TypeScript).await;
}
