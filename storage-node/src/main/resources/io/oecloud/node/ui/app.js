// The node's dashboard: reads /v1/status and /v1/contracts with the API token and shows them.
// No build step and no library: plain DOM. The token comes from the link `oe ui` prints
// (#token=…, a fragment: never sent to a server) or the form, and stays in this tab's
// sessionStorage. Every figure is written with its exact value in data-value (base units for
// amounts), so tests compare with the chain without parsing the formatted text.
"use strict";

const PASS = 10n ** 18n;
const REFRESH_MS = 5000;

function token() {
  const m = /(?:^|&)token=([^&]+)/.exec(location.hash.slice(1));
  if (m) {
    sessionStorage.setItem("oe-api-token", decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname); // out of the address bar and history
  }
  return sessionStorage.getItem("oe-api-token");
}

async function get(path, tok) {
  const r = await fetch(path, { headers: { Authorization: "Bearer " + tok }, cache: "no-store" });
  if (r.status === 401) {
    throw Object.assign(new Error("the API token was refused"), { unauthorized: true });
  }
  if (r.status === 404) {
    throw Object.assign(new Error(path + ": not served by this node"), { notFound: true });
  }
  if (!r.ok) {
    throw new Error(path + ": HTTP " + r.status + " " + (await r.text()).slice(0, 200));
  }
  return r.json();
}

function bytes(n) {
  const v = Number(n);
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let i = 0, x = v;
  while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
  return (i === 0 ? String(v) : x.toFixed(x < 10 ? 2 : 1)) + " " + units[i];
}

function passes(baseUnits) {
  const b = BigInt(baseUnits);
  const whole = b / PASS;
  const frac = (b % PASS).toString().padStart(18, "0").slice(0, 6).replace(/0+$/, "");
  if (whole === 0n && !frac && b > 0n) {
    return b.toString() + " base units"; // under a millionth of a pass
  }
  return whole.toString() + (frac ? "." + frac : "") + " pass";
}

function show(id, value, text) {
  const el = document.getElementById(id);
  if (value === undefined || value === null) {
    el.textContent = "—";
    el.removeAttribute("data-value");
    return;
  }
  el.dataset.value = String(value);
  el.textContent = text === undefined ? String(value) : text;
}

function chart(payments) {
  const svg = document.getElementById("earnings-chart");
  svg.replaceChildren();
  const list = (payments || []).slice().sort((a, b) => Number(a.period) - Number(b.period)).slice(-60);
  if (list.length === 0) {
    return;
  }
  const max = list.reduce((m, p) => (BigInt(p.amount) > m ? BigInt(p.amount) : m), 1n);
  const w = 600 / list.length;
  const ns = "http://www.w3.org/2000/svg";
  list.forEach((p, i) => {
    const h = Math.max(1, Number((BigInt(p.amount) * 140n) / max));
    const r = document.createElementNS(ns, "rect");
    r.setAttribute("x", String(i * w + 1));
    r.setAttribute("y", String(150 - h));
    r.setAttribute("width", String(Math.max(1, w - 2)));
    r.setAttribute("height", String(h));
    r.setAttribute("class", p.paid ? "paid" : "unpaid");
    r.dataset.period = String(p.period);
    r.dataset.value = String(p.amount);
    const t = document.createElementNS(ns, "title");
    t.textContent = "period " + p.period + ": " + passes(p.amount) + (p.paid ? "" : " (not paid: the window was not proven)");
    r.appendChild(t);
    svg.appendChild(r);
  });
}

function contractsTable(list) {
  const body = document.querySelector("#my-contracts tbody");
  body.replaceChildren();
  for (const c of list) {
    const tr = document.createElement("tr");
    tr.dataset.object = c.object;
    const cells = [
      [c.object, c.object, "object"],
      [c.bytes, bytes(c.bytes)],
      [(c.holders || []).length, String((c.holders || []).length)],
      [c.costPerPeriod, passes(c.costPerPeriod)],
      [c.paidThrough, "period " + c.paidThrough + (c.paidUntil ? " (" + c.paidUntil + ")" : "")],
      [c.escrow, passes(c.escrow)],
    ];
    for (const [value, text, cls] of cells) {
      const td = document.createElement("td");
      td.dataset.value = String(value);
      td.textContent = text;
      if (cls) {
        td.className = cls;
        td.title = text;
      }
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}

function render(status, contracts) {
  show("peer-id", status.peerId);
  const used = BigInt(status.usedBytes), cap = BigInt(status.capacityBytes);
  const free = cap > used ? cap - used : 0n;
  show("used-bytes", used, bytes(used));
  show("free-bytes", free, bytes(free));
  show("shards", status.shards);
  document.getElementById("used-bar").style.width = cap > 0n ? Number((used * 1000n) / cap) / 10 + "%" : "0";
  const paid = status.paidStorage || {};
  const held = paid.holding || {};
  const p = Object.assign({}, status.proving || {}, held); // the chain's record of this node, as last read
  show("contracts-held", held.contracts);
  show("contract-bytes", held.bytes, held.bytes === undefined ? undefined : bytes(held.bytes));
  show("collateral", p.collateral, p.collateral === undefined ? undefined : passes(p.collateral));
  show("proven", p.proven);
  show("missed", p.missed);
  show("faults", p.faultsDeclared);
  show("penalties", p.penalties, p.penalties === undefined ? undefined : passes(p.penalties));
  const chain = status.chain || {};
  show("balance", chain.balance, chain.balance === undefined ? undefined : passes(chain.balance));
  show("rate", held.ratePerPeriod, held.ratePerPeriod === undefined ? undefined : passes(held.ratePerPeriod));
  show("earned-last", held.earnedLastPeriod, held.earnedLastPeriod === undefined ? undefined : passes(held.earnedLastPeriod));
  show("earned-total", held.earnedTotal, held.earnedTotal === undefined ? undefined : passes(held.earnedTotal));
  chart(held.payments);
  show("price", paid.price, paid.price === undefined ? undefined : passes(paid.price));
  contractsTable(contracts.contracts || []);
}

async function refresh() {
  const state = document.getElementById("state");
  const tok = token();
  if (!tok) {
    document.getElementById("token-form").hidden = false;
    state.textContent = "This dashboard needs the node's API token.";
    return;
  }
  try {
    // /v1/contracts exists on a node with a chain link; without one the page shows storage only
    const [status, contracts] = await Promise.all([get("/v1/status", tok),
      get("/v1/contracts", tok).catch((e) => (e.notFound ? { contracts: [] } : Promise.reject(e)))]);
    render(status, contracts);
    document.getElementById("main").hidden = false;
    document.getElementById("token-form").hidden = true;
    state.className = "";
    state.textContent = "";
    state.dataset.loaded = "true";
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (err) {
    state.className = "error";
    state.textContent = err.message;
    if (err.unauthorized) {
      sessionStorage.removeItem("oe-api-token");
      document.getElementById("token-form").hidden = false;
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem("oe-api-token", document.getElementById("token-input").value.trim());
    refresh();
  });
  refresh();
  setInterval(refresh, REFRESH_MS);
});
