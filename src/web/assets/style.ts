// The one stylesheet of the web pages, served by the dispatcher at /assets/style.css (strict CSP:
// no inline styles anywhere). Light and dark via prefers-color-scheme; mobile first, fits 375 px.
export const STYLE_CSS = `
:root{--bg:#f7f7f5;--panel:#fff;--text:#1b1d21;--muted:#5b616b;--line:#dfe1e5;--accent:#0b5fd6;
--accent-soft:#e6efff;--good:#137333;--warn:#9a5b00;--bad:#b3261e;--chart:#0b5fd6;--chart2:#8a94a6;
--code:#f0f1f3;color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
font-size:16px;line-height:1.45}
@media (prefers-color-scheme:dark){:root{--bg:#111317;--panel:#1a1d23;--text:#e8eaed;--muted:#a3a9b4;
--line:#2e333b;--accent:#7cacf8;--accent-soft:#1e2a3f;--good:#7bd88f;--warn:#f0b45a;--bad:#f28b82;
--chart:#7cacf8;--chart2:#6b7383;--code:#23272e}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text)}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,[tabindex]:focus-visible{
outline:3px solid var(--accent);outline-offset:2px}
.skip{position:absolute;left:-9999px}.skip:focus{left:8px;top:8px;background:var(--panel);padding:8px;z-index:9}
header.site{background:var(--panel);border-bottom:1px solid var(--line)}
header.site nav{max-width:1280px;margin:0 auto;display:flex;
gap:20px;align-items:center;padding:12px 16px;flex-wrap:wrap}
header.site a{text-decoration:none;color:var(--text);font-weight:500}
header.site a[aria-current=page]{color:var(--accent)}
header.site .brand{font-weight:800;font-size:1.15rem;margin-right:auto}
main{max-width:1280px;margin:0 auto;padding:16px}
footer{max-width:1280px;margin:24px auto;padding:16px;color:var(--muted);font-size:.875rem}
h1{font-size:1.6rem;margin:.2em 0 .4em}h2{font-size:1.2rem;margin:1.6em 0 .6em}h3{font-size:1rem;margin:.2em 0 .4em}
p{margin:.4em 0}
.panel>h2:first-child,.panel>h3:first-child{margin-top:0}
figure{margin:0}
.muted{color:var(--muted)}.small{font-size:.875rem}
.panel{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.grid{display:grid;gap:12px;grid-template-columns:repeat(auto-fill,minmax(220px,1fr))}
.stats{display:grid;gap:12px;grid-template-columns:repeat(auto-fit,minmax(125px,1fr));margin:12px 0}
.stat{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:10px 14px}
.stat dt{color:var(--muted);font-size:.8rem;text-transform:uppercase;letter-spacing:.04em}
.stat dd{margin:2px 0 0;font-size:1.35rem;font-weight:700;font-variant-numeric:tabular-nums}
.tabs{display:flex;gap:4px;border-bottom:1px solid var(--line);margin:8px 0 12px;flex-wrap:wrap}
.tabs a{padding:8px 14px;text-decoration:none;color:var(--muted);border-bottom:3px solid transparent;font-weight:600}
.tabs a[aria-current=page]{color:var(--text);border-bottom-color:var(--accent)}
form.search{display:flex;gap:8px;flex-wrap:wrap;align-items:end;margin:8px 0 16px}
form.search label{display:flex;flex-direction:column;font-size:.8rem;color:var(--muted);gap:2px}
input,select,button{font:inherit;color:var(--text);background:var(--panel);border:1px solid var(--line);
border-radius:8px;padding:7px 10px;min-height:40px}
input[type=search]{min-width:min(260px,100%)}
button,.button{background:var(--accent);color:#fff;border-color:var(--accent);font-weight:600;cursor:pointer;
text-decoration:none;display:inline-block;padding:7px 14px;border-radius:8px}
@media (prefers-color-scheme:dark){button,.button{color:#0b1220}}
button.secondary{background:transparent;color:var(--accent)}
.layout{display:grid;gap:16px;grid-template-columns:minmax(0,1fr)}
@media (min-width:960px){.layout{grid-template-columns:minmax(0,1fr) 240px}}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:10px;background:var(--panel)}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:.92rem}
th,td{padding:8px 10px;text-align:left;border-bottom:1px solid var(--line);white-space:nowrap}
th{font-size:.72rem;color:var(--muted);text-transform:uppercase;font-weight:600}
td.num,th.num{text-align:right}
tbody tr:last-child td{border-bottom:0}
td.name{white-space:normal;min-width:160px}
td.name a{font-weight:600;white-space:nowrap}
main h3{margin-top:1.4em}
td.name .desc{display:block;color:var(--muted);font-size:.82rem;
max-width:30ch;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
@media (max-width:700px){.wide{display:none}th,td{padding:7px 6px}td.name{min-width:0}td.name .desc{display:none}}
.badge{display:inline-block;font-size:.75rem;padding:1px 8px;
border-radius:999px;background:var(--accent-soft);color:var(--text);
font-weight:600}
.badge.bad{background:transparent;border:1px solid var(--bad);color:var(--bad)}
.badge.good{background:transparent;border:1px solid var(--good);color:var(--good)}
.rail ol{list-style:none;margin:0;padding:0}.rail li{padding:8px 0;border-bottom:1px solid var(--line)}
.rail li:last-child{border-bottom:0}
.rail .desc{display:block;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.card h3 a{text-decoration:none}.card dl{display:grid;grid-template-columns:auto 1fr;
gap:2px 10px;margin:6px 0 0;font-size:.9rem}
.card dt{color:var(--muted)}.card dd{margin:0;text-align:right;font-variant-numeric:tabular-nums}
pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem}
pre{background:var(--code);padding:10px 12px;border-radius:8px;overflow-x:auto;margin:6px 0;white-space:pre}
code{background:var(--code);padding:1px 4px;border-radius:4px;overflow-wrap:anywhere}
pre code{background:none;padding:0}
.snippet .code{position:relative}.snippet .code:has(button) pre{padding-top:38px}
.snippet button{position:absolute;top:6px;right:6px;min-height:30px;
padding:2px 10px;font-size:.8rem}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;
margin:0}.kv dt{color:var(--muted)}.kv dd{margin:0;overflow-wrap:anywhere}
.factors{display:grid;gap:12px;grid-template-columns:repeat(auto-fit,minmax(230px,1fr))}
.factor .value{font-size:1.5rem;font-weight:700}
.chart{width:100%;height:auto;display:block}
.chart .bar{fill:var(--chart)}.chart .bar2{fill:var(--chart2)}.chart .line{stroke:var(--chart);fill:none;stroke-width:2}
.chart .axis{stroke:var(--line)}.chart text{fill:var(--muted);font-size:14px}
@media (max-width:700px){.chart text{font-size:24px}}
.funnel{list-style:none;padding:0;margin:0}.funnel li{margin:0 0 8px;
display:flex;flex-wrap:wrap;justify-content:space-between;gap:0 8px}
.fbar{width:100%;height:10px;display:block;background:var(--code);
border-radius:3px}.fbar .bar{fill:var(--chart)}.fbar .bar2{fill:var(--chart2)}
.ops{padding-left:1.2em}.ops li{margin:.5em 0}
.legend{display:flex;gap:14px;font-size:.82rem;color:var(--muted);flex-wrap:wrap}
.legend .sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;background:var(--chart)}
.legend .sw.s2{background:var(--chart2)}
meter{width:100%;height:12px}
.alert{border:1px solid var(--bad);color:var(--bad);border-radius:8px;padding:8px 12px;margin:8px 0}
.notice{border:1px solid var(--line);border-radius:8px;padding:8px 12px;margin:8px 0;color:var(--muted)}
.login{max-width:460px}.login label{display:block;font-weight:600;margin:8px 0 4px}.login input{width:100%}
.row{display:flex;gap:12px;align-items:center;flex-wrap:wrap;justify-content:space-between}
.apis-nav{display:flex;gap:6px;flex-wrap:wrap;margin:8px 0}
.apis-nav a{padding:4px 10px;border:1px solid var(--line);border-radius:999px;text-decoration:none;color:var(--text)}
.apis-nav a[aria-current=page]{border-color:var(--accent);background:var(--accent-soft)}
.two{display:grid;gap:16px;grid-template-columns:minmax(0,1fr)}
@media (min-width:900px){.two{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}
}
`;
