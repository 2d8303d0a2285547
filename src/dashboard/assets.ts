/**
 * The dashboard's only stylesheet and script, served by the Worker itself (no CDN, no build step).
 * The script is plain progressive enhancement: every page works without it.
 */
import { Hono } from "hono";
import type { DashboardEnv } from "./context";

export const STYLESHEET = `
:root{--bg:#f7f7fb;--panel:#fff;--ink:#1b1b29;--muted:#62627a;--line:#e3e3ee;--accent:#5b5bd6;--accent-ink:#fff;--accent-soft:#ededfc;
--ok:#1f8a4c;--ok-soft:#e3f6ea;--warn:#9a6200;--warn-soft:#fdf1dc;--bad:#c4283c;--bad-soft:#fde8eb;--info:#2160c4;--info-soft:#e6effc;
--radius:10px;--shadow:0 1px 2px rgba(20,20,50,.06),0 1px 8px rgba(20,20,50,.04);--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--ink);background:var(--bg)}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
:focus-visible{outline:3px solid #8f8ff0;outline-offset:2px;border-radius:4px}
h1{font-size:1.5rem;margin:0;letter-spacing:-.01em}h2{font-size:1.05rem;margin:0}h3{font-size:.95rem;margin:1rem 0 .5rem}
code,.mono{font-family:var(--mono);font-size:.85em}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;border:0;overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap}
.skip{position:absolute;left:-999px;top:0;background:var(--panel);padding:.5rem 1rem;z-index:10}.skip:focus{left:1rem}
.muted{color:var(--muted)}.small{font-size:.85rem}
.topbar{display:flex;align-items:center;gap:1rem;padding:.6rem 1.25rem;background:#14142b;color:#fff;position:sticky;top:0;z-index:5}
.brand{display:flex;align-items:center;gap:.5rem;color:inherit;font-weight:700;font-size:1.05rem}.brand:hover{text-decoration:none}
.brand-lg{font-size:1.3rem;color:var(--ink);justify-content:center;margin-bottom:1.25rem}
.topbar-right{margin-left:auto;display:flex;align-items:center;gap:.75rem}
.account-link{color:#d9d9f5}
.topbar .btn-ghost{color:#d9d9f5;border-color:#3a3a5c}
.switcher{position:relative}
.switcher summary{list-style:none;cursor:pointer;display:flex;align-items:center;gap:.5rem;padding:.35rem .7rem;border:1px solid #3a3a5c;border-radius:8px;max-width:16rem}
.switcher summary::-webkit-details-marker{display:none}
.switcher summary::after{content:"";border:5px solid transparent;border-top-color:#b9b9e0;margin-top:5px}
.switcher-name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.switcher-role{font-size:.75rem;color:#b9b9e0;border:1px solid #3a3a5c;border-radius:99px;padding:0 .45rem}
.switcher-menu{position:absolute;top:calc(100% + 6px);left:0;background:var(--panel);color:var(--ink);min-width:15rem;border:1px solid var(--line);border-radius:var(--radius);box-shadow:0 8px 30px rgba(20,20,50,.18);padding:.4rem;z-index:20}
.switcher-menu ul{list-style:none;margin:0;padding:0}
.switcher-menu a{display:block;padding:.45rem .6rem;border-radius:6px;color:var(--ink);overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.switcher-menu a:hover,.switcher-menu a[aria-current]{background:var(--accent-soft);text-decoration:none}
.switcher-new{border-top:1px solid var(--line);margin-top:.3rem;color:var(--accent)!important}
.banner{margin:0;padding:.55rem 1.25rem;background:var(--warn-soft);color:#5d3b00;border-bottom:1px solid #f2dcb3}
.shell{display:grid;grid-template-columns:15rem minmax(0,1fr);min-height:calc(100vh - 52px)}
.shell.no-sidebar{grid-template-columns:minmax(0,1fr)}
.sidebar{border-right:1px solid var(--line);background:var(--panel);padding:1.25rem .75rem}
.sidebar nav+nav{margin-top:1.5rem}
.nav-title{font-size:.72rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:0 0 .4rem .6rem;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.sidebar ul{list-style:none;margin:0;padding:0}
.sidebar a{display:block;padding:.42rem .6rem;border-radius:7px;color:var(--ink);overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.sidebar a:hover{background:#f1f1f8;text-decoration:none}
.sidebar a.active{background:var(--accent-soft);color:#3b3bb0;font-weight:600}
main{padding:1.75rem 2rem 3rem;max-width:76rem;width:100%}
main:focus{outline:none}
.page-head{display:flex;align-items:center;justify-content:space-between;gap:1rem;margin-bottom:1.25rem;flex-wrap:wrap}
.page-head h1{overflow-wrap:anywhere}
.card{background:var(--panel);border:1px solid var(--line);border-radius:var(--radius);box-shadow:var(--shadow);padding:1.25rem;margin-bottom:1.25rem}
.card-head{display:flex;align-items:center;justify-content:space-between;gap:1rem;margin-bottom:1rem;flex-wrap:wrap}
.card-actions{display:flex;gap:.5rem;flex-wrap:wrap}
.grid{display:grid;gap:1.25rem}.grid-2{grid-template-columns:repeat(2,minmax(0,1fr))}.grid-3{grid-template-columns:repeat(3,minmax(0,1fr))}.grid-4{grid-template-columns:repeat(4,minmax(0,1fr))}
.stat{background:var(--panel);border:1px solid var(--line);border-radius:var(--radius);padding:1rem 1.1rem;box-shadow:var(--shadow)}
.stat-label{color:var(--muted);font-size:.8rem;margin:0}.stat-value{font-size:1.45rem;font-weight:700;margin:.15rem 0 0}
.stat-sub{font-size:.8rem;color:var(--muted);margin:.1rem 0 0}
.field{margin-bottom:1rem;min-width:0}
.field label,.field legend{display:block;font-weight:600;font-size:.88rem;margin-bottom:.3rem}
input[type=text],input[type=email],input[type=password],input[type=url],input[type=number],input[type=datetime-local],input[type=search],input:not([type]),select,textarea{
width:100%;padding:.55rem .7rem;border:1px solid #cfcfe0;border-radius:8px;background:#fff;font:inherit;color:inherit}
textarea{font-family:var(--mono);font-size:.85rem}
input:focus,select:focus,textarea:focus{border-color:var(--accent);outline:3px solid #d5d5fa;outline-offset:0}
.has-error input,.has-error select,.has-error textarea{border-color:var(--bad)}
.error{color:var(--bad);font-size:.85rem;margin:.3rem 0 0}
.hint{color:var(--muted);font-size:.82rem;margin:.3rem 0 0}
fieldset{border:0;padding:0;margin:0 0 1rem}
.check-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(13rem,1fr));gap:.35rem .9rem;margin-top:.3rem}
.check{display:flex;align-items:center;gap:.45rem;font-weight:400!important;font-size:.9rem;margin:0!important}
.check input{width:1rem;height:1rem;accent-color:var(--accent)}
.form-row{display:grid;grid-template-columns:repeat(auto-fit,minmax(12rem,1fr));gap:0 1rem}
.form-actions{display:flex;gap:.6rem;align-items:center;flex-wrap:wrap}
form.inline{display:inline}
.btn{display:inline-flex;align-items:center;justify-content:center;gap:.4rem;padding:.55rem 1rem;border-radius:8px;border:1px solid transparent;font:inherit;font-weight:600;cursor:pointer;line-height:1.2;white-space:nowrap}
.btn:hover{text-decoration:none}
.btn-sm{padding:.32rem .65rem;font-size:.85rem}
.btn-primary{background:var(--accent);color:var(--accent-ink)}.btn-primary:hover{background:#4a4ac4}
.btn-secondary{background:#fff;color:var(--ink);border-color:#cfcfe0}.btn-secondary:hover{background:#f4f4fa}
.btn-danger{background:#fff;color:var(--bad);border-color:#efb7bf}.btn-danger:hover{background:var(--bad-soft)}
.btn-ghost{background:transparent;color:var(--ink);border-color:var(--line)}
.btn[disabled]{opacity:.5;cursor:not-allowed}
.badge{display:inline-block;padding:.08rem .5rem;border-radius:99px;font-size:.76rem;font-weight:600;white-space:nowrap}
.badge-ok{background:var(--ok-soft);color:var(--ok)}.badge-warn{background:var(--warn-soft);color:var(--warn)}.badge-bad{background:var(--bad-soft);color:var(--bad)}
.badge-info{background:var(--info-soft);color:var(--info)}.badge-muted{background:#efeff5;color:var(--muted)}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:8px;position:relative}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th{text-align:left;font-size:.76rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);background:#fafafd;font-weight:600}
th,td{padding:.6rem .8rem;border-bottom:1px solid var(--line);vertical-align:top}
tbody tr:last-child td{border-bottom:0}
td .actions{display:flex;gap:.4rem;flex-wrap:wrap}
.cell-name{font-weight:600;overflow-wrap:break-word;min-width:9rem;max-width:22rem}
time{white-space:nowrap}
.cell-wrap{min-width:12rem;max-width:24rem;overflow-wrap:anywhere}
.attempts{margin:0;padding-left:1.1rem}
.tracks{list-style:none;margin:0;padding:0;display:grid;gap:.35rem}.tracks li{display:flex;align-items:center;gap:.5rem;flex-wrap:wrap;white-space:nowrap}
.page-actions{display:flex;gap:.5rem;flex-wrap:wrap}
.grid{margin-bottom:1.25rem}
figure{margin:0}
.meter-bar{height:.5rem;border-radius:99px;background:#ececf4;overflow:hidden;margin:.6rem 0 .2rem}
.meter-fill{height:100%;background:#5b5bd6}
.meter-fill.over{background:#c4283c}
${Array.from({ length: 101 }, (_, i) => `.w-${i}{width:${i}%}`).join("")}
.meter-text{font-size:.8rem;color:var(--muted);margin:0}
.empty{text-align:center;padding:2rem 1rem;border:1px dashed #d5d5e5;border-radius:var(--radius);background:#fcfcfe}
.empty-title{font-weight:600;margin:0 0 .25rem}
.flashes{margin-bottom:1.25rem}
.flash{padding:.7rem 1rem;border-radius:8px;margin:0 0 .75rem;font-weight:500}
.flash-ok{background:var(--ok-soft);color:#135c32;border:1px solid #bfe6cd}.flash-bad{background:var(--bad-soft);color:#8c1627;border:1px solid #f3c2c9}
.secret{border:1px solid #c9c9f3;background:#f6f6ff;border-radius:var(--radius);padding:1rem 1.1rem}
.secret-title{font-weight:700;margin:0}.secret .muted{margin:.2rem 0 .6rem}
.secret-row{display:flex;gap:.6rem;align-items:center}
.secret-value{flex:1;min-width:0;overflow-wrap:anywhere;background:#fff;border:1px solid #dcdcf5;border-radius:6px;padding:.5rem .65rem;user-select:all}
.kv{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.35rem 1.25rem;margin:0}
.kv dt{color:var(--muted);font-size:.88rem}.kv dd{margin:0;overflow-wrap:anywhere}
pre{background:#14142b;color:#e8e8ff;padding:1rem;border-radius:8px;overflow:auto;font-size:.8rem;line-height:1.45;margin:0;white-space:pre-wrap;overflow-wrap:anywhere}
.danger-zone{border-color:#f1c4ca}
.danger-zone h2{color:var(--bad)}
.tabs{display:flex;gap:.25rem;border-bottom:1px solid var(--line);margin-bottom:1rem;flex-wrap:wrap}
.tabs a{padding:.5rem .8rem;border-bottom:2px solid transparent;color:var(--muted)}
.tabs a[aria-current]{border-color:var(--accent);color:var(--ink);font-weight:600}
.filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:0 1rem;align-items:end}
.pager{display:flex;justify-content:space-between;align-items:center;margin-top:1rem}
.chart{width:100%;height:auto;display:block}
.chart text{font-size:13px;fill:#62627a;font-family:system-ui,sans-serif}
.chart .grid-line{stroke:#ececf4}
.chart .bar{fill:#7b7be6}.chart .bar:hover{fill:#4a4ac4}
.chart .quota{stroke:#c4283c;stroke-dasharray:6 4;stroke-width:1.5}
.legend{display:flex;gap:1rem;font-size:.82rem;color:var(--muted);margin:.5rem 0 0;flex-wrap:wrap}
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:3px;background:#7b7be6;vertical-align:-1px;margin-right:.3rem}
.swatch-quota{background:none;border-top:2px dashed #c4283c;height:0;width:1rem;vertical-align:3px}
.auth{background:radial-gradient(1200px 500px at 50% -10%,#e4e4ff,transparent) no-repeat,var(--bg)}
.auth-main{max-width:27rem;margin:0 auto;padding:3.5rem 1.25rem}
.auth-card{background:var(--panel);border:1px solid var(--line);border-radius:14px;box-shadow:0 10px 40px rgba(20,20,60,.08);padding:1.75rem}
.auth-card h1{margin-bottom:.35rem}
.auth-card .btn-primary{width:100%;margin-top:.25rem}
.auth-foot{text-align:center;margin:1.1rem 0 0;font-size:.9rem}
.steps{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:1rem}
@media (max-width:760px){
.topbar{flex-wrap:wrap;padding:.55rem .9rem;gap:.6rem}
.topbar-right{gap:.4rem}.account-link{display:none}
.switcher summary{max-width:11rem}
.shell{display:block}
.sidebar{border-right:0;border-bottom:1px solid var(--line);padding:.5rem .5rem;display:flex;gap:.25rem;overflow-x:auto}
.sidebar nav{display:flex;align-items:center;gap:.25rem}.sidebar nav+nav{margin:0;padding-left:.5rem;border-left:1px solid var(--line)}
.sidebar ul{display:flex;gap:.15rem}.sidebar a{white-space:nowrap;padding:.4rem .55rem}
.nav-title{display:none}
main{padding:1.25rem 1rem 2.5rem}
.grid-2,.grid-3{grid-template-columns:minmax(0,1fr)}.grid-4{grid-template-columns:repeat(2,minmax(0,1fr))}
.card{padding:1rem}
.secret-row{flex-direction:column;align-items:stretch}
.kv{grid-template-columns:minmax(0,1fr)}.kv dt{margin-top:.4rem}
}
`;

export const SCRIPT = `
"use strict";
(function(){
  function ready(fn){ if(document.readyState!=="loading") fn(); else document.addEventListener("DOMContentLoaded", fn); }
  ready(function(){
    // Copy a secret (or any text) to the clipboard.
    document.addEventListener("click", function(e){
      var btn = e.target.closest && e.target.closest("[data-copy]");
      if(!btn) return;
      var el = document.querySelector(btn.getAttribute("data-copy"));
      if(!el) return;
      var text = el.textContent || "";
      var done = function(){ btn.textContent = "Copied"; btn.setAttribute("data-copied", "true"); setTimeout(function(){ btn.textContent = "Copy"; }, 2000); };
      if(navigator.clipboard && navigator.clipboard.writeText){ navigator.clipboard.writeText(text).then(done, function(){ selectText(el); }); }
      else { selectText(el); }
    });
    function selectText(el){ var r = document.createRange(); r.selectNodeContents(el); var s = window.getSelection(); s.removeAllRanges(); s.addRange(r); }
    // Ask before destructive actions.
    document.addEventListener("submit", function(e){
      var form = e.target;
      var msg = form.getAttribute && form.getAttribute("data-confirm");
      if(msg && !window.confirm(msg)) e.preventDefault();
    });
    // Typed confirmation: the button stays disabled until the name is typed exactly.
    document.querySelectorAll("[data-confirm-text]").forEach(function(input){
      var button = input.form && input.form.querySelector("button[type=submit]");
      if(!button) return;
      var check = function(){ button.disabled = input.value !== input.getAttribute("data-confirm-text"); };
      input.addEventListener("input", check); check();
    });
    // Links whose token rides in the fragment (#token=…): move it into the form, out of the address bar.
    var holder = document.querySelector("[data-fragment-token]");
    if(holder && location.hash.indexOf("#token=") === 0){
      holder.value = decodeURIComponent(location.hash.slice(7));
      history.replaceState(null, "", location.pathname + location.search);
      var form = holder.form; if(form) { var hint = form.querySelector("[data-fragment-hint]"); if(hint) hint.hidden = true; }
    }
    // Live refresh: re-fetch this page and swap the marked region while it is visible.
    document.querySelectorAll("[data-live-refresh]").forEach(function(region){
      var every = Number(region.getAttribute("data-live-refresh")) || 5000;
      var id = region.id;
      setInterval(function(){
        if(document.hidden) return;
        fetch(location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" }).then(function(r){ return r.ok ? r.text() : null; }).then(function(html){
          if(!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(id);
          var current = document.getElementById(id);
          if(fresh && current && fresh.innerHTML !== current.innerHTML) current.innerHTML = fresh.innerHTML;
        }).catch(function(){});
      }, every);
    });
  });
})();
`;

const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><rect width="24" height="24" rx="6" fill="#5b5bd6"/><path d="M4 13h3.5l2-5 3 9 2.5-6 1.5 2H20" fill="none" stroke="#fff" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

export const assetRoutes = new Hono<DashboardEnv>();

const asset = (body: string, type: string) => () =>
  new Response(body, { headers: { "Content-Type": type, "Cache-Control": "public, max-age=300" } });

assetRoutes.get("/assets/app.css", asset(STYLESHEET, "text/css; charset=utf-8"));
assetRoutes.get("/assets/app.js", asset(SCRIPT, "text/javascript; charset=utf-8"));
assetRoutes.get("/assets/favicon.svg", asset(FAVICON, "image/svg+xml"));
assetRoutes.get("/favicon.ico", asset(FAVICON, "image/svg+xml"));
