// ClayStack dashboard: vanilla JS, inline SVG charts, data from the REST API of the same origin.
"use strict";
const $ = (id) => document.getElementById(id);
const WEI = 1e18;
const fmtEth = (wei) => (Number(wei) / WEI).toLocaleString(undefined, { maximumFractionDigits: 4 });
const fmtPct = (x) => (x === null || x === undefined ? "–" : (x * 100).toFixed(2) + " %");
// Small ratios (insurance coverage early on) keep two significant digits instead of rounding to 0.
const fmtRatio = (x) => (x === null || x === undefined ? "–" : x > 0 && x < 0.0001 ? (x * 100).toPrecision(2) + " %" : fmtPct(x));
const fmtTime = (t) => new Date(t * 1000).toISOString().replace("T", " ").slice(0, 16);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
let pool = "public";
let opRows = [];
let sort = { key: "id", dir: "asc" };

async function api(path) {
  const r = await fetch(path);
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

async function all(path) {
  let items = [], cursor = null;
  for (let i = 0; i < 20; i++) {
    const page = await api(path + (path.includes("?") ? "&" : "?") + "limit=500" + (cursor ? "&cursor=" + cursor : ""));
    items = items.concat(page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return items;
}

// A line chart of (x, y) points as inline SVG; data-points carries the count for tests.
function lineChart(id, pts, fmtY, color) {
  const W = 560, H = 200, P = 36;
  if (pts.length === 0) { $(id).innerHTML = '<div class="empty">No data yet.</div>'; return; }
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  let x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  if (y1 === y0) { const d = Math.abs(y0) * 0.001 || 0.001; y0 -= d; y1 += d; }
  const sx = (x) => P + ((x - x0) / (x1 - x0)) * (W - 2 * P);
  const sy = (y) => H - P + -((y - y0) / (y1 - y0)) * (H - 2 * P);
  const d = pts.map((p, i) => (i ? "L" : "M") + sx(p[0]).toFixed(1) + " " + sy(p[1]).toFixed(1)).join(" ");
  const dots = pts.map((p) => `<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.5" fill="${color}"><title>${fmtTime(p[0])}: ${fmtY(p[1])}</title></circle>`).join("");
  $(id).innerHTML = `<svg viewBox="0 0 ${W} ${H}" role="img" data-points="${pts.length}">
    <line x1="${P}" y1="${H - P}" x2="${W - P}" y2="${H - P}" stroke="#26313c"/>
    <line x1="${P}" y1="${P}" x2="${P}" y2="${H - P}" stroke="#26313c"/>
    <text x="${P}" y="${P - 8}">${esc(fmtY(y1))}</text><text x="${P}" y="${H - P + 14}">${esc(fmtY(y0))}</text>
    <text x="${W - P}" y="${H - 6}" text-anchor="end">${esc(fmtTime(x1))}</text><text x="${P}" y="${H - 6}">${esc(fmtTime(x0))}</text>
    <path class="line" d="${d}" fill="none" stroke="${color}" stroke-width="2"/>${dots}</svg>`;
}

function typeChart(byType, targets) {
  const types = ["Professional", "Dvt", "Home", "Kyc"];
  const total = types.reduce((s, t) => s + Number(byType[t] || 0), 0);
  const W = 560, row = 34, H = types.length * row + 24;
  let out = `<svg viewBox="0 0 ${W} ${H}" role="img" data-types="${types.length}">`;
  types.forEach((t, i) => {
    const y = 10 + i * row, share = total ? Number(byType[t] || 0) / total : 0, tgt = targets[t] || 0;
    const bw = (W - 200) * share, tx = 110 + (W - 200) * tgt;
    out += `<text x="0" y="${y + 14}">${t}</text>
      <rect x="110" y="${y}" width="${W - 200}" height="18" fill="#26313c" rx="3"/>
      <rect class="actual" x="110" y="${y}" width="${bw.toFixed(1)}" height="18" fill="#4fb3ff" rx="3"/>
      <line x1="${tx.toFixed(1)}" y1="${y - 3}" x2="${tx.toFixed(1)}" y2="${y + 21}" stroke="#f5a524" stroke-width="2"/>
      <text x="${W - 84}" y="${y + 14}">${(share * 100).toFixed(1)}% / ${(tgt * 100).toFixed(0)}%</text>`;
  });
  out += `<text x="110" y="${H - 2}">blue: actual share of validators · orange: target</text></svg>`;
  $("type-chart").innerHTML = out;
}

function renderOperators() {
  const rows = [...opRows].sort((a, b) => {
    const x = a[sort.key], y = b[sort.key];
    const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return sort.dir === "asc" ? c : -c;
  });
  document.querySelectorAll("#operators th").forEach((th) => { th.dataset.dir = th.dataset.key === sort.key ? sort.dir : ""; });
  $("operators").tBodies[0].innerHTML = rows.map((o) => `<tr>
    <td><a href="#/operator/${o.id}">${o.id}</a></td><td>${esc(o.name)}</td><td>${esc(o.type)}</td><td>${o.validators}</td>
    <td>${o.score}</td><td>${o.bond.toFixed(3)}</td><td>${o.penalties.toFixed(3)}</td><td>${o.rewards.toFixed(3)}</td><td>${o.exitRequests}</td><td>${o.forcedExits}</td></tr>`).join("");
  $("operators-empty").hidden = rows.length > 0;
}

async function overview() {
  $("overview").hidden = false;
  $("operator-page").hidden = true;
  const s = await api("/api/v1/summary?pool=" + pool);
  $("block").textContent = "indexed block " + s.indexedBlock;
  $("tvl").textContent = fmtEth(s.tvlWei);
  $("rate").textContent = s.rate.toFixed(6);
  $("apr7").textContent = fmtPct(s.apr7d);
  $("apr30").textContent = "30 d: " + fmtPct(s.apr30d);
  if (s.insurance) {
    $("insurance").textContent = fmtRatio(s.insurance.coverageRatio);
    $("insurance-s").textContent = fmtEth(s.insurance.valueWei) + " ETH in the fund";
  } else { $("insurance").textContent = "–"; }
  $("queue").textContent = s.queue.length + " req";
  $("queue-eta").textContent = fmtEth(s.queue.pendingEtherWei) + " ETH · ETA " +
    (s.queue.etaSeconds === null ? "–" : Math.round(s.queue.etaSeconds / 60) + " min");
  const v = s.validators.byStatus;
  $("validators").textContent = v ? v.active : "–";
  $("validators-s").textContent = v ? `deposited ${v.deposited} · exited ${v.exited} · slashed ${v.slashed}` : "";

  const rates = await all("/api/v1/rates?pool=" + pool);
  lineChart("rate-chart", rates.map((r) => [r.time, r.rate]), (y) => y.toFixed(6), "#4fb3ff");
  const aprs = [];
  for (let i = 1; i < rates.length; i++) {
    const dt = rates[i].time - rates[i - 1].time;
    if (dt > 0) aprs.push([rates[i].time, (rates[i].rate / rates[i - 1].rate - 1) * (365 * 86400) / dt]);
  }
  lineChart("apr-chart", aprs, (y) => (y * 100).toFixed(2) + "%", "#3fb950");
  typeChart(s.validators.byType || {}, s.targets);

  const reports = await all("/api/v1/reports?pool=" + pool);
  $("reports").tBodies[0].innerHTML = reports.slice(-20).reverse().map((r) => `<tr><td>${r.refSlot}</td><td>${fmtTime(r.time)}</td>
    <td>${r.validators ? r.validators.active : "–"}</td><td>${r.validators ? r.validators.exited : "–"}</td>
    <td>${r.rateE27 ? (Number(r.rateE27) / 1e27).toFixed(6) : "–"}</td><td>${r.signatures}</td><td class="extra">${esc(extraText(r.extraData))}</td></tr>`).join("");

  const losses = await all("/api/v1/losses?pool=" + pool);
  const t = s.losses || {};
  $("losses-summary").textContent = `${t.count || 0} losses · ${fmtEth(t.totalWei || 0)} ETH: bond ${fmtEth(t.fromBondWei || 0)} · VFP ${fmtEth(t.fromVfpWei || 0)} · insurance ${fmtEth(t.fromInsuranceWei || 0)} · holders ${fmtEth(t.uncoveredWei || 0)}`;
  $("losses").tBodies[0].innerHTML = losses.slice(-20).reverse().map((l) => `<tr><td>${fmtTime(l.time)}</td>
    <td><a href="#/operator/${l.operator}">${l.operator}</a></td><td>${esc(l.cause)}</td><td>${fmtEth(l.amountWei || 0)}</td>
    <td>${fmtEth(l.covered.bondWei || 0)}</td><td>${layer(l.covered.vfpWei, l.covered.otherLayersWei)}</td>
    <td>${layer(l.covered.insuranceWei, null)}</td><td>${fmtEth(l.uncoveredWei || 0)}</td></tr>`).join("");
  $("losses-empty").hidden = losses.length > 0;

  const ops = await all("/api/v1/operators?pool=" + pool);
  opRows = ops.map((o) => ({
    id: o.id, name: o.manager ? o.manager.slice(0, 10) + "…" : "", type: o.type || "", validators: Number(o.validators || 0), score: Number(o.score || 0),
    bond: Number(o.bondWei || 0) / WEI, penalties: penaltyTotal(o) / WEI, rewards: Number(o.rewardsShares || 0) / WEI,
    exitRequests: Number(o.exitRequests || 0), forcedExits: Number(o.forcedExits || 0),
  }));
  renderOperators();
  document.body.dataset.ready = "1";
}

// Every loss charged to the operator (all causes, whoever paid); the bond's record before the
// per-cause one existed.
function penaltyTotal(o) {
  const kinds = Object.values(o.penaltiesByKind || {});
  return kinds.length ? kinds.reduce((s, k) => s + Number(k.amountWei || 0), 0) : Number(o.penaltiesWei || 0);
}

// "2 chunks" / "1 chunk, dropped" / "1 chunk, pending" for a report's extra data.
function extraText(x) {
  if (!x || x.status === "none") return "–";
  const n = x.chunksApplied + (x.chunksApplied === 1 ? " chunk" : " chunks");
  return x.status === "complete" ? n : n + ", " + x.status;
}

// A loss layer's ETH, or "–" when unknown (VFP and insurance together in `other`).
function layer(wei, other) {
  if (wei !== null && wei !== undefined) return fmtEth(wei);
  return other ? fmtEth(other) + " (VFP+ins.)" : "–";
}

const STATUS_TEXT = { pending: "pending", awaiting_report: "deadline passed, awaiting report", met: "met", missed: "missed",
  forced: "missed, forced (EIP-7002)", cleared: "cleared", unknown: "unknown" };

async function operatorPage(id) {
  $("overview").hidden = true;
  const el = $("operator-page");
  el.hidden = false;
  try {
    const o = await api("/api/v1/operators/" + encodeURIComponent(id) + "?pool=" + pool);
    const notices = (o.notices || []).map((n) => `<tr><td>${fmtTime(n.time)}</td><td>${esc(n.kind)}</td><td>${esc(JSON.stringify(n.data))}</td></tr>`).join("");
    const base = "/api/v1/operators/" + encodeURIComponent(id);
    const [exits, penalties, rewards] = await Promise.all([
      all(base + "/exit-requests?pool=" + pool), all(base + "/penalties?pool=" + pool), api(base + "/rewards?pool=" + pool + "&limit=20")]);
    const exitRows = exits.slice().reverse().map((x) => `<tr><td>${x.keyIndex}</td><td>${fmtTime(x.requestedAt)}</td><td>${fmtTime(x.deadline)}</td>
      <td class="status">${esc(STATUS_TEXT[x.status] || x.status)}</td><td>${x.judgedByRefSlot ?? "–"}</td>
      <td>${x.forcedExit ? fmtTime(x.forcedExit.at) + " · fee " + fmtEth(x.forcedExit.feeWei) + " ETH" : "–"}</td></tr>`).join("");
    const penaltyRows = penalties.slice().reverse().map((l) => `<tr><td>${fmtTime(l.time)}</td><td>${esc(l.cause)}</td><td>${l.refSlot ?? "–"}</td>
      <td>${fmtEth(l.amountWei || 0)}</td><td>${fmtEth(l.covered.bondWei || 0)}</td><td>${layer(l.covered.vfpWei, l.covered.otherLayersWei)}</td>
      <td>${layer(l.covered.insuranceWei, null)}</td><td>${fmtEth(l.uncoveredWei || 0)}</td></tr>`).join("");
    const root = rewards.latestRoot;
    // The reward address's leaf in the oracle members' tree, only once that tree rebuilt to the on-chain root.
    const al = rewards.allocation || { status: "unavailable", reason: "not served by this API" };
    const verified = al.status === "verified";
    const shares = (x) => (verified && x !== null && x !== undefined ? fmtEth(x) : "–");
    const allocation = `<div class="cards">
        <div class="card"><div class="k">claimable</div><div class="v" id="claimable">${shares(al.claimableShares)}</div><div class="s">csETH shares</div></div>
        <div class="card"><div class="k">allocated (cumulative)</div><div class="v" id="allocated">${shares(al.cumulativeShares)}</div><div class="s">leaf of the rewards tree</div></div>
        <div class="card"><div class="k">claimed</div><div class="v" id="claimed">${fmtEth(al.claimedShares || 0)}</div><div class="s">OperatorRewards.claimed</div></div></div>
      <div class="s" id="allocation-status">${verified
        ? esc("verified against the on-chain root " + al.root.slice(0, 10) + "… (tree of " + al.treeLeaves + " leaves from " + al.member + ")" + (al.reason ? ": " + al.reason : ""))
        : esc("allocation unavailable: " + (al.reason || "unknown"))}</div>`;
    const claimRows = rewards.items.map((c) => `<tr><td>${fmtTime(c.time)}</td><td>${fmtEth(c.shares)}</td><td>${fmtEth(c.cumulativeShares)}</td></tr>`).join("");
    el.innerHTML = `<section class="card"><h2>Operator ${o.id} · ${esc(o.type || "")} · ${esc(o.manager || "")}</h2>
      <div class="cards">${["type", "validators", "score", "bondWei", "penaltiesWei", "rewardsShares", "exitRequests", "forcedExits", "missedExitsCharged"].map((k) =>
        `<div class="card"><div class="k">${k}</div><div class="v">${esc((k.endsWith("Wei") || k.endsWith("Shares")) ? fmtEth(o[k] || 0) : (o[k] ?? "–"))}</div></div>`).join("")}</div>
      <h2 style="margin-top:12px">Exit requests</h2>
      <div class="scroll"><table id="exit-requests"><thead><tr><th>key</th><th>requested</th><th>deadline</th><th>status</th><th>judged by report</th><th>forced exit</th></tr></thead><tbody>${exitRows}</tbody></table></div>
      ${exits.length ? "" : '<div class="empty">No exit requests.</div>'}
      <h2 style="margin-top:12px">Penalties and front-run charges (ETH, by loss layer)</h2>
      <div class="scroll"><table id="penalties"><thead><tr><th>time</th><th>cause</th><th>report</th><th>amount</th><th>bond</th><th>VFP pool</th><th>insurance</th><th>holders</th></tr></thead><tbody>${penaltyRows}</tbody></table></div>
      ${penalties.length ? "" : '<div class="empty">No penalties.</div>'}
      <h2 style="margin-top:12px">Rewards</h2>
      <div class="s" id="rewards-summary">claimed ${fmtEth(rewards.claimedShares)} csETH (cumulative ${fmtEth(rewards.claimedCumulativeShares)}) · latest root ${root ? esc(root.root.slice(0, 10)) + "… at ref slot " + root.refSlot + ", " + fmtEth(root.cumulativeShares) + " csETH allocated to all operators" : "none yet"}</div>
      ${allocation}
      <div class="scroll"><table id="claims"><thead><tr><th>claimed at</th><th>shares</th><th>cumulative</th></tr></thead><tbody>${claimRows}</tbody></table></div>
      <h2 style="margin-top:12px">Notices <a href="/api/v1/operators/${o.id}/feed.atom?pool=${pool}">Atom</a> · <a href="/api/v1/operators/${o.id}/feed?pool=${pool}">JSON</a></h2>
      <div class="scroll"><table><thead><tr><th>time</th><th>kind</th><th>details</th></tr></thead><tbody>${notices}</tbody></table></div>
      <p><a href="#/">← back</a></p></section>`;
  } catch (e) {
    el.innerHTML = `<section class="card"><h2>Operator ${esc(id)}</h2><div class="empty">${esc(e.message)}</div><a href="#/">← back</a></section>`;
  }
  document.body.dataset.ready = "1";
}

function route() {
  const m = location.hash.match(/^#\/operator\/(\d+)/);
  (m ? operatorPage(m[1]) : overview()).catch((e) => { document.body.dataset.error = e.message; });
}

document.querySelectorAll("#operators th").forEach((th) => th.addEventListener("click", () => {
  sort = { key: th.dataset.key, dir: sort.key === th.dataset.key && sort.dir === "asc" ? "desc" : "asc" };
  renderOperators();
}));
$("pool").addEventListener("change", (e) => { pool = e.target.value; route(); });
window.addEventListener("hashchange", route);
route();
setInterval(() => { if (!location.hash.startsWith("#/operator/")) overview().catch(() => {}); }, 15000);
