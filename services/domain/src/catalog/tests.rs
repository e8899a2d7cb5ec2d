//! Catalog tests: the seed loads, bad catalogs name their entry, search,
//! schema and markdown.

use serde_json::{Value, json};

use super::*;

fn seed_value() -> Value {
    serde_json::from_str(SEED_JSON).unwrap()
}

fn problems_of(v: &Value) -> Vec<CatalogProblem> {
    match Catalog::from_json(&v.to_string()) {
        Err(CatalogError::Invalid(problems)) => problems,
        other => panic!("expected an invalid catalog, got {other:?}"),
    }
}

fn package_mut<'a>(v: &'a mut Value, id: &str) -> &'a mut Value {
    v["packages"].as_array_mut().unwrap().iter_mut().find(|p| p["id"] == id).unwrap()
}

#[test]
fn the_seed_catalog_loads_with_all_eight_packages() {
    let catalog = Catalog::seed().unwrap();
    assert_eq!(catalog.version(), "2026.1");
    assert_eq!(catalog.packages().len(), 8);
    for p in catalog.packages() {
        assert!(p.promised_total_days >= p.critical_path_days, "{}", p.id);
        assert!(!p.guide_text.legal_basis.is_empty());
    }
    let newborn = catalog.package("newborn-birth").unwrap();
    assert_eq!(newborn.critical_path_days, 5);
    let path: Vec<&str> = newborn.critical_path.iter().map(|c| c.as_str()).collect();
    // NB-04 and NB-05 tie at one day each; the first in step order is reported
    assert_eq!(path, ["DEMO-NB-01", "DEMO-NB-03", "DEMO-NB-04"]);
}

#[test]
fn merged_materials_are_deduplicated_with_the_items_using_them() {
    let catalog = Catalog::seed().unwrap();
    let newborn = catalog.package("newborn-birth").unwrap();
    let merged = newborn.merged_materials();
    assert_eq!(merged.len(), 9);
    let ids = merged.iter().find(|m| m.id.as_str() == "m_parents_id").unwrap();
    assert_eq!(ids.used_by.len(), 3);
    assert!(!ids.applicant_must_submit);
    // the bank card is needed only once the optional item NB-07 is chosen
    let bank = merged.iter().find(|m| m.id.as_str() == "m_bank_card").unwrap();
    assert!(!bank.required);
    let nb07 = crate::values::ItemCode::parse("DEMO-NB-07").unwrap();
    let chosen = newborn.materials_for(std::slice::from_ref(&nb07));
    assert!(chosen.iter().find(|m| m.id.as_str() == "m_bank_card").unwrap().required);
    assert!(!newborn.materials_for(&[]).iter().any(|m| m.id.as_str() == "m_bank_card"));
}

#[test]
fn an_unknown_department_is_an_error_naming_the_item() {
    let mut v = seed_value();
    package_mut(&mut v, "open-restaurant")["items"][1]["department"] = json!("nowhere");
    let problems = problems_of(&v);
    assert!(problems.contains(&CatalogProblem::UnknownDepartment {
        entry: "packages[open-restaurant].items[DEMO-CY-02].department".into(),
        code: "nowhere".into(),
    }));
}

#[test]
fn an_unknown_lead_department_is_an_error_naming_the_package() {
    let mut v = seed_value();
    package_mut(&mut v, "retirement")["lead_department"] = json!("pension-office");
    let problems = problems_of(&v);
    assert!(problems.iter().any(|p| matches!(p, CatalogProblem::UnknownDepartment { entry, .. }
        if entry == "packages[retirement].lead_department")));
}

#[test]
fn a_cyclic_step_graph_is_an_error_naming_the_steps() {
    let mut v = seed_value();
    package_mut(&mut v, "newborn-birth")["steps"][0]["depends_on"] = json!(["s3"]);
    let problems = problems_of(&v);
    let cycle = problems.iter().find_map(|p| match p {
        CatalogProblem::CyclicSteps { entry, cycle } if entry == "packages[newborn-birth].steps" => Some(cycle),
        _ => None,
    });
    assert_eq!(cycle.unwrap(), &["s1", "s3", "s1"]);
}

#[test]
fn duplicate_item_codes_are_an_error_naming_the_item() {
    let mut v = seed_value();
    let p = package_mut(&mut v, "enterprise-info-change");
    p["items"][2]["code"] = json!("DEMO-BG-02");
    let problems = problems_of(&v);
    assert!(problems.contains(&CatalogProblem::Duplicate {
        entry: "packages[enterprise-info-change].items[DEMO-BG-02]".into(),
        what: "item code",
        code: "DEMO-BG-02".into(),
    }));
}

#[test]
fn duplicate_package_ids_department_codes_and_field_keys_are_errors() {
    let mut v = seed_value();
    let copy = v["packages"][0].clone();
    v["packages"].as_array_mut().unwrap().push(copy);
    let dept = v["departments"][0].clone();
    v["departments"].as_array_mut().unwrap().push(dept);
    let field = package_mut(&mut v, "retirement")["form_fields"][0].clone();
    package_mut(&mut v, "retirement")["form_fields"].as_array_mut().unwrap().push(field);
    let entries: Vec<String> = problems_of(&v).iter().map(|p| p.entry().to_owned()).collect();
    assert!(entries.contains(&"packages[newborn-birth]".to_owned()), "{entries:?}");
    assert!(entries.contains(&"departments[samr]".to_owned()), "{entries:?}");
    assert!(entries.contains(&"packages[retirement].form_fields[applicant_id_no]".to_owned()), "{entries:?}");
}

#[test]
fn a_promised_total_below_the_critical_path_is_an_error_naming_the_package() {
    let mut v = seed_value();
    package_mut(&mut v, "retirement")["promised_total_days"] = json!(10);
    let problems = problems_of(&v);
    assert!(problems.contains(&CatalogProblem::PromisedBelowCriticalPath {
        entry: "packages[retirement].promised_total_days".into(),
        promised: 10,
        critical_path: 14,
        path: vec!["DEMO-TX-01".into(), "DEMO-TX-03".into(), "DEMO-TX-04".into()],
    }));
    let message = CatalogError::Invalid(problems).to_string();
    assert!(message.contains("packages[retirement].promised_total_days"), "{message}");
}

#[test]
fn a_declared_merged_list_that_the_items_contradict_is_an_error() {
    let mut v = seed_value();
    package_mut(&mut v, "newborn-birth")["merged_materials"][1]["deficiency_allowed"] = json!(true);
    let problems = problems_of(&v);
    assert!(problems.iter().any(|p| matches!(p, CatalogProblem::Mismatch { entry, what: "deficiency_allowed", .. }
        if entry == "packages[newborn-birth].merged_materials[m_birth_cert_form]")));
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut v = seed_value();
    package_mut(&mut v, "newborn-birth")["items"][0]["department"] = json!("x");
    package_mut(&mut v, "retirement")["promised_total_days"] = json!(1);
    package_mut(&mut v, "open-restaurant")["form_fields"][0]["type"] = json!("colour");
    assert!(problems_of(&v).len() >= 3);
}

#[test]
fn packages_are_found_by_name_department_and_keyword() {
    let catalog = Catalog::seed().unwrap();
    let ids = |q: PackageQuery| catalog.search(&q).iter().map(|p| p.id.to_string()).collect::<Vec<_>>();
    assert_eq!(ids(PackageQuery { name: Some("餐饮".into()), ..Default::default() }), ["open-restaurant"]);
    let tax = ids(PackageQuery { department: Some("tax".parse().unwrap()), ..Default::default() });
    assert!(tax.contains(&"newborn-birth".to_owned()) && tax.contains(&"resale-housing-transfer".to_owned()));
    assert_eq!(ids(PackageQuery { keyword: Some("结婚证".into()), ..Default::default() }), ["newborn-birth"]);
    let persons = ids(PackageQuery { target: Some(PackageTarget::Person), ..Default::default() });
    assert!(persons.contains(&"newborn-birth".to_owned()) && !persons.contains(&"open-restaurant".to_owned()));
    assert_eq!(ids(PackageQuery::default()).len(), 8);
}

#[test]
fn the_form_schema_is_draft_2020_12_with_chinese_titles_and_formats() {
    let catalog = Catalog::seed().unwrap();
    let schema = catalog.guide("newborn-birth").unwrap().form_schema();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(schema["$id"], "urn:yiciban:catalog:2026.1:package:newborn-birth:form");
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["properties"]["newborn_name"]["title"], "新生儿姓名");
    assert_eq!(schema["properties"]["newborn_gender"]["enum"], json!(["男", "女"]));
    assert_eq!(schema["properties"]["birth_datetime"]["format"], "date-time");
    assert_eq!(schema["properties"]["mother_id_no"]["format"], "id_card");
    assert_eq!(schema["properties"]["mobile_mother"]["pattern"], "^1[3-9][0-9]{9}$");
    assert_eq!(schema["properties"]["birth_hospital"]["x-prefill-source"], "助产机构出生信息");
    assert!(schema["required"].as_array().unwrap().contains(&json!("newborn_name")));
    assert!(!schema["required"].as_array().unwrap().contains(&json!("bank_account")));
    let hiring = catalog.guide("employee-hiring").unwrap().form_schema();
    assert_eq!(hiring["properties"]["hire_date"]["format"], "date");
}

#[test]
fn the_printable_guide_lists_materials_form_steps_and_time_promise() {
    let catalog = Catalog::seed().unwrap();
    let guide = catalog.guide("open-restaurant").unwrap();
    let md = guide.to_markdown();
    assert!(md.starts_with("# 开办餐饮店一件事办事指南"));
    for needle in [
        "## 设定依据",
        "食品安全管理制度",
        "可容缺",
        "可承诺",
        "免提交（电子营业执照（免提交））",
        "统一社会信用代码（`uscc`）",
        "承诺办结时限：13 个工作日",
        "关键路径：DEMO-CY-01 → DEMO-CY-06，共 10 个工作日",
        "各事项法定时限合计：40 个工作日",
        "选择可选事项时必要",
        "- 咨询电话：0472-5163108",
        "- 现场咨询：“一件事一次办”综合窗口",
        "- 全国政务服务便民热线：12345",
    ] {
        assert!(md.contains(needle), "missing {needle:?} in\n{md}");
    }
    assert_eq!(guide.printable_file_name(), "open-restaurant-guide.md");
}

#[test]
fn the_seed_catalog_is_the_seed_version() {
    assert_eq!(Catalog::seed().unwrap().version(), super::SEED_VERSION);
}

#[test]
fn service_sites_and_department_districts_are_catalog_data() {
    let mut v = seed_value();
    v["departments"][0]["district"] = json!("示例旗");
    v["sites"] = json!([
        {"code": "hall", "name": "示例旗政务服务大厅", "kind": "hall", "district": "示例旗"},
        {"code": "town-1", "name": "示例镇便民服务中心", "kind": "township", "district": "示例旗"}
    ]);
    let catalog = Catalog::from_json(&v.to_string()).unwrap();
    assert_eq!(catalog.sites().iter().map(|s| s.code.as_str()).collect::<Vec<_>>(), ["hall", "town-1"]);
    assert_eq!(catalog.site("town-1").unwrap().kind, SiteKind::Township);
    assert!(catalog.departments().iter().any(|d| d.district == "示例旗"));
    assert!(Catalog::seed().unwrap().sites().is_empty(), "the seed lists no sites");
}

#[test]
fn bad_sites_are_each_named() {
    let mut v = seed_value();
    v["sites"] = json!([
        {"code": "Hall 1", "name": "大厅", "kind": "hall"},
        {"code": "hall", "name": "大厅", "kind": "hall"},
        {"code": "hall", "name": "又一个大厅", "kind": "hall"},
        {"code": "gacha", "name": "", "kind": "yurt"}
    ]);
    let text: Vec<String> = problems_of(&v).iter().map(ToString::to_string).collect();
    for expected in [
        "sites[0].code: \"Hall 1\": 1 to 40 of a-z, 0-9 and -",
        "sites[hall]: duplicate site code \"hall\"",
        "sites[gacha].kind: \"yurt\": one of hall, township, village",
        "sites[gacha].name: the name is missing",
    ] {
        assert!(text.iter().any(|t| t == expected), "missing {expected:?} in {text:#?}");
    }
}

#[test]
fn every_seed_package_keeps_personal_data_ten_years_after_closing() {
    let catalog = Catalog::seed().unwrap();
    for p in catalog.packages() {
        assert_eq!(p.retention_years, Package::DEFAULT_RETENTION_YEARS, "{}", p.id);
    }
}

#[test]
fn a_package_without_a_retention_period_gets_the_default_and_one_with_a_period_keeps_it() {
    let mut v = seed_value();
    package_mut(&mut v, "open-restaurant").as_object_mut().unwrap().remove("retention_years");
    package_mut(&mut v, "newborn-birth")["retention_years"] = json!(30);
    let catalog = Catalog::from_json(&v.to_string()).unwrap();
    assert_eq!(catalog.package("open-restaurant").unwrap().retention_years, Package::DEFAULT_RETENTION_YEARS);
    assert_eq!(catalog.package("newborn-birth").unwrap().retention_years, 30);
}

#[test]
fn a_retention_period_out_of_range_is_an_error_naming_the_package() {
    for bad in [0, -3, 101] {
        let mut v = seed_value();
        package_mut(&mut v, "open-restaurant")["retention_years"] = json!(bad);
        let problems = problems_of(&v);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].entry(), "packages[open-restaurant].retention_years");
        assert!(problems[0].to_string().contains("1 to 100"), "{}", problems[0]);
    }
}

#[test]
fn a_retention_period_that_is_not_a_whole_number_does_not_parse() {
    let mut v = seed_value();
    package_mut(&mut v, "open-restaurant")["retention_years"] = json!("ten");
    assert!(matches!(Catalog::from_json(&v.to_string()), Err(CatalogError::Parse(_))));
}

#[test]
fn the_seed_carries_the_centres_consultation_phone_and_every_package_has_a_contact() {
    let catalog = Catalog::seed().unwrap();
    let centre = catalog.contact().expect("the seed states the centre's contact");
    assert_eq!(centre.phone.as_str(), "0472-5163108");
    assert_eq!(centre.desk, "“一件事一次办”综合窗口");
    assert_eq!(centre.hotlines.iter().map(|h| h.number.as_str()).collect::<Vec<_>>(), ["12345"]);
    for p in catalog.packages() {
        let contact = p.contact.as_ref().unwrap_or_else(|| panic!("{} has no contact", p.id));
        assert_eq!(contact.phone.as_str(), "0472-5163108", "{}", p.id);
        assert!(
            p.consultation_phone.starts_with("0472-5163108（“一件事一次办”综合窗口）；"),
            "{}",
            p.consultation_phone
        );
    }
    // A package states what it adds: the disability package its own hotline.
    let disability = catalog.package("disability-services").unwrap().contact.as_ref().unwrap();
    assert_eq!(disability.hotlines.iter().map(|h| h.number.as_str()).collect::<Vec<_>>(), ["12345", "12385"]);
    assert_eq!(catalog.contact_for("disability-services"), Some(disability));
    assert_eq!(catalog.contact_for("retired-long-ago"), Some(centre), "a package no longer listed: the centre's");
}

#[test]
fn a_package_s_own_contact_replaces_only_the_fields_it_gives() {
    let mut v = seed_value();
    package_mut(&mut v, "open-restaurant")["contact"] = json!({"phone": "0472-1234567", "desk": "市场监管窗口"});
    let catalog = Catalog::from_json(&v.to_string()).unwrap();
    let own = catalog.package("open-restaurant").unwrap().contact.clone().unwrap();
    assert_eq!((own.phone.as_str(), own.desk.as_str()), ("0472-1234567", "市场监管窗口"));
    assert_eq!(own.hotlines, catalog.contact().unwrap().hotlines, "the centre's hotlines stay");
    assert_eq!(own.text(), "0472-1234567（市场监管窗口）；全国政务服务便民热线 12345");
}

#[test]
fn a_malformed_phone_is_a_catalog_problem_listed_with_the_others() {
    let mut v = seed_value();
    v["contact"]["phone"] = json!("0472-0000000");
    v["contact"]["hotlines"] = json!([{"name": "", "number": "12345"}, {"name": "热线", "number": "一二三四五"}]);
    package_mut(&mut v, "open-restaurant")["contact"] = json!({"phone": "5163108", "desk": " "});
    package_mut(&mut v, "newborn-birth")["promised_total_days"] = json!(1);
    let text: Vec<String> = problems_of(&v).iter().map(ToString::to_string).collect();
    for expected in [
        "contact.phone: \"0472-0000000\": 咨询电话格式不正确",
        "contact.hotlines[0].name: the hotline's name is missing",
        "contact.hotlines[1].number: \"一二三四五\": 咨询电话格式不正确",
        "packages[open-restaurant].contact.phone: \"5163108\": 咨询电话格式不正确",
        "packages[open-restaurant].contact.desk: an empty desk: leave it out",
        "packages[newborn-birth].promised_total_days: promised total of 1",
    ] {
        assert!(text.iter().any(|t| t.starts_with(expected)), "missing {expected:?} in {text:#?}");
    }
    // The centre's bad phone is reported once, not once more per package.
    assert_eq!(text.iter().filter(|t| t.contains("consultation phone is missing")).count(), 0, "{text:#?}");
}

#[test]
fn a_file_with_a_contact_may_not_keep_the_old_free_text_phone() {
    let mut v = seed_value();
    package_mut(&mut v, "retirement")["consultation_phone"] = json!("0472-1234567；12345");
    let problems = problems_of(&v);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].entry(), "packages[retirement].consultation_phone");
}

#[test]
fn a_file_published_before_contacts_were_structured_still_loads_with_its_text() {
    let mut v = seed_value();
    v.as_object_mut().unwrap().remove("contact");
    for p in v["packages"].as_array_mut().unwrap() {
        p.as_object_mut().unwrap().remove("contact");
        p["consultation_phone"] = json!("旧目录的咨询电话文本 0472-1234567；12345");
    }
    let catalog = Catalog::from_json(&v.to_string()).unwrap();
    assert_eq!(catalog.contact(), None);
    let p = catalog.package("newborn-birth").unwrap();
    assert_eq!((p.contact.as_ref(), p.consultation_phone.as_str()), (None, "旧目录的咨询电话文本 0472-1234567；12345"));
    assert!(
        catalog
            .guide("newborn-birth")
            .unwrap()
            .to_markdown()
            .contains("- 咨询电话：旧目录的咨询电话文本 0472-1234567；12345")
    );
}

/// FNV-1a (64 bits) of everything a case pinned to the catalog's version
/// reads: the catalog without its contacts, which are read from the version
/// in force instead (ADR 0036).
fn pinned_fingerprint(catalog: &Catalog) -> u64 {
    let mut packages = catalog.packages.clone();
    for p in &mut packages {
        p.contact = None;
        p.consultation_phone.clear();
    }
    let text = serde_json::to_string(&(&catalog.version, &catalog.departments, &catalog.sites, &packages)).unwrap();
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[test]
fn the_seed_reads_to_every_case_pinned_to_2026_1_exactly_as_when_they_were_accepted() {
    // Computed from the seed as shipped before its contacts were real (a
    // placeholder number). A change of what cases pinned to the seed read —
    // items, materials, steps, limits, names, the form, the guide texts —
    // is a new catalog version, never an edit of this file (ADR 0017, 0036).
    // A field added to the model changes the fingerprint of the old seed as
    // well: recompute it from the seed as last released, never from this one.
    let fingerprint = pinned_fingerprint(&Catalog::seed().unwrap());
    assert_eq!(fingerprint, PINNED_2026_1, "{fingerprint:#x}: the seed's pinned content changed");
}

const PINNED_2026_1: u64 = 0xabbf_dfe6_5616_b096;
