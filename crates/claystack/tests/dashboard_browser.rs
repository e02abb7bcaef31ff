//! The dashboard in headless Chromium: `claystack serve` (indexer + API + dashboard) over a real
//! devnet; the rendered DOM must show real numbers in the cards, the charts and the tables, and
//! screenshots (laptop, phone, and an operator's page) are saved to `target/ci-artifacts/` for CI.

mod indexer_suite;

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use indexer_suite::{Devnet, free_port, repo_root};

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ignored = Command::new("kill").args(["-INT", &self.0.id().to_string()]).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ignored = self.0.kill();
    }
}

fn chromium() -> PathBuf {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.exists())
            })
        })
        .expect("Chromium is not installed: apt-get install -y chromium (.ci/run does)")
}

fn headless(profile: &Path, extra: &[&str], url: &str) -> String {
    let out = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        .args(["--no-first-run", "--hide-scrollbars", "--virtual-time-budget=20000"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of the element with `id="<id>"` in a dumped DOM.
fn text_of<'a>(dom: &'a str, id: &str) -> &'a str {
    let tag = format!("id=\"{id}\"");
    let at = dom.find(&tag).unwrap_or_else(|| panic!("no #{id} in the DOM"));
    let rest = &dom[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest[start..].find('<').unwrap() + start;
    rest[start..end].trim()
}

fn number(s: &str) -> f64 {
    s.replace(',', "").split_whitespace().next().unwrap_or_default().parse().unwrap_or(f64::NAN)
}

/// The `data-points` of the chart inside `#<id>`.
fn chart_points(dom: &str, id: &str) -> usize {
    let at = dom.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id}"));
    let rest = &dom[at..];
    let p = rest.find("data-points=\"").unwrap_or_else(|| panic!("#{id} has no chart")) + 13;
    rest[p..rest[p..].find('"').unwrap() + p].parse().unwrap()
}

#[test]
fn dashboard_renders_the_live_devnet_in_chromium() {
    let browser = chromium();
    let devnet = Devnet::start();
    // Penalties through the waterfall in report chunks, one chain dropped, a claimed root, then
    // a second root under which the operator has shares left to claim, whose tree an oracle
    // member serves.
    let rt = indexer_suite::runtime();
    let scenario = devnet.operator_scenario(&rt);
    let (tree, extra) = devnet.second_rewards_root(&rt, &scenario);
    let dir = tempfile::tempdir().unwrap();
    let member = rt.block_on(indexer_suite::honest_member(&tree, &dir.path().join("member")));
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_claystack"))
        .args(["serve", "--rpc-url", &devnet.rpc, "--oracle-url", &member, "--deployment"])
        .arg(&devnet.deployment_path)
        .arg("--sqlite")
        .arg(dir.path().join("index.sqlite"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--poll-ms", "200"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start claystack serve");
    let _serve = Serve(child);
    let base = format!("http://127.0.0.1:{port}");

    // Wait until the indexer has caught up with the chain.
    let head: u64 = devnet.cast(&["block-number"]).parse().unwrap();
    let summary: serde_json::Value = rt.block_on(async {
        let client = reqwest::Client::new();
        let start = Instant::now();
        loop {
            assert!(start.elapsed() < Duration::from_secs(120), "the indexer did not catch up");
            if let Ok(r) = client.get(format!("{base}/health")).send().await
                && let Ok(v) = r.json::<serde_json::Value>().await
                && v["indexedBlock"].as_u64().is_some_and(|b| b >= head)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let r = client.get(format!("{base}/api/v1/summary")).send().await.unwrap();
        r.json().await.unwrap()
    });

    let profile = dir.path().join("chromium");
    let dom = headless(&profile, &["--dump-dom"], &format!("{base}/"));
    assert!(dom.contains("data-ready=\"1\""), "the page did not finish rendering:\n{dom}");
    assert!(!dom.contains("data-error"), "the page reported an error:\n{dom}");

    // Cards: TVL equals the chain's totalPooledEther, the rate rose above 1.
    let pool = format!("{:#x}", devnet.deployment.public.stake_pool);
    let tvl_wei: f64 = devnet.call_uint(&pool, "totalPooledEther()(uint256)", &[]).parse().unwrap();
    let tvl = number(text_of(&dom, "tvl"));
    assert!((tvl - tvl_wei / 1e18).abs() < 1e-3, "TVL card {tvl} vs chain {}", tvl_wei / 1e18);
    let rate = number(text_of(&dom, "rate"));
    assert!(rate > 1.0 && rate < 1.1, "rate card {rate}");
    assert!(text_of(&dom, "apr7").ends_with('%'), "APR card {}", text_of(&dom, "apr7"));
    // The fund paid part of the slashing, until empty: the card shows the API's coverage.
    let coverage = summary["insurance"]["coverageRatio"].as_f64().expect("coverage ratio");
    let card = number(text_of(&dom, "insurance"));
    assert!((card - coverage * 100.0).abs() < 0.01, "insurance card {card} vs {coverage}");
    assert!(
        summary["insurance"]["coveredLossesWei"].as_str().is_some_and(|w| w != "0"),
        "{summary}"
    );
    assert!(number(text_of(&dom, "validators")) >= 0.0, "validators card");

    // Charts: one rate point per report, APR between them, the type chart with its targets.
    assert!(chart_points(&dom, "rate-chart") >= 2, "rate chart");
    assert!(chart_points(&dom, "apr-chart") >= 1, "APR chart");
    assert!(dom.contains("data-types=\"4\""), "type chart");
    assert!(dom.contains("class=\"line\""), "chart lines");

    // Reports table: rows with numbers.
    let reports = &dom[dom.find("id=\"reports\"").unwrap()..];
    let reports = &reports[..reports.find("</table>").unwrap()];
    assert!(reports.matches("<tr>").count() >= 3, "header + at least two reports:\n{reports}");
    assert!(reports.contains("1.0"), "rates shown:\n{reports}");
    // Extra data: one report delivered both chunks, the next one's second chunk was dropped.
    assert!(reports.contains("<td class=\"extra\">2 chunks</td>"), "complete chain:\n{reports}");
    assert!(
        reports.contains("<td class=\"extra\">1 chunk, dropped</td>"),
        "dropped chain:\n{reports}"
    );

    // Losses: the three penalties, each split over the layers that paid.
    let losses = &dom[dom.find("id=\"losses\"").unwrap()..];
    let losses = &losses[..losses.find("</table>").unwrap()];
    assert_eq!(losses.matches("<tr>").count(), 4, "header + three losses:\n{losses}");
    for cause in ["missed_duties", "slashing", "missed_exit"] {
        assert!(losses.contains(&format!("<td>{cause}</td>")), "{cause} row:\n{losses}");
    }
    assert!(text_of(&dom, "losses-summary").starts_with("3 losses"), "losses summary");

    // The operator's page: penalties by layer, its claimed rewards, no exit requests.
    let id = scenario.operator;
    let op = headless(&profile, &["--dump-dom"], &format!("{base}/#/operator/{id}"));
    assert!(op.contains(&format!("Operator {id} · Home")), "operator page:\n{op}");
    let penalties = &op[op.find("id=\"penalties\"").expect("penalties table")..];
    let penalties = &penalties[..penalties.find("</table>").unwrap()];
    assert_eq!(penalties.matches("<tr>").count(), 4, "header + three penalties:\n{penalties}");
    assert!(text_of(&op, "rewards-summary").starts_with("claimed "), "rewards summary");
    // Claimable rewards: the leaf of the member's tree, verified against the on-chain root.
    let status = text_of(&op, "allocation-status");
    assert!(status.starts_with("verified against the on-chain root"), "{status}");
    assert!(status.contains(&member), "{status}");
    let shares = |wei: &str| wei.parse::<f64>().unwrap() / 1e18;
    let claimable = number(text_of(&op, "claimable"));
    let want = shares(&extra.to_string());
    assert!((claimable - want).abs() < 1e-4 * want.max(1.0), "claimable {claimable} vs {want}");
    let allocated = number(text_of(&op, "allocated"));
    let want = shares(&scenario.claimed) + shares(&extra.to_string());
    assert!((allocated - want).abs() < 1e-4 * want.max(1.0), "allocated {allocated} vs {want}");
    assert!(op.contains("No exit requests."), "exit requests section:\n{op}");
    // An unknown operator shows the API's answer instead of a broken page.
    let missing = headless(&profile, &["--dump-dom"], &format!("{base}/#/operator/999"));
    assert!(missing.contains("Operator 999"), "unknown operator page:\n{missing}");

    // Screenshots for CI: laptop and phone widths.
    let artifacts = repo_root().join("target/ci-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let operator_page = format!("{base}/#/operator/{id}");
    for (file, size, url) in [
        ("dashboard.png", "1280,1800", format!("{base}/")),
        ("dashboard-phone.png", "390,2400", format!("{base}/")),
        ("dashboard-operator.png", "1280,1600", operator_page),
    ] {
        let path = artifacts.join(file);
        let _ignored = std::fs::remove_file(&path);
        headless(
            &profile,
            &[&format!("--screenshot={}", path.display()), &format!("--window-size={size}")],
            &url,
        );
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(len > 10_000, "{file} is missing or blank ({len} bytes)");
    }
    drop(browser);
}
