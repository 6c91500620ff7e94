"""The inline CSS and JavaScript of the HTML report (no external resource, ever).

The script only enhances: every link also works without it. Once it has run it
marks ``<body data-ready="N" data-layout="beside|stacked">``: N passages wired
up, and how the first side-by-side view is laid out (tests read these).
"""

#: Passage colors, the same index on both sides; no reds (red marks changes).
PALETTE = ("#fff3b0", "#cfe8ff", "#d4f5d4", "#ead9ff", "#ffe0b8", "#c9f1ef", "#e8f0b0", "#f3d9ec")

CSS = """
:root{--fg:#1d2330;--muted:#6b7280;--line:#d8dde6;--bg:#f6f7f9;--card:#fff;
--exact:#c62828;--near_duplicate:#e65100;--partial:#00838f;--chg:#b00020}
*{box-sizing:border-box}
body{margin:0;font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans CJK SC","PingFang SC",
"Microsoft YaHei","WenQuanYi Zen Hei",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1400px;margin:0 auto;padding:16px}
h1{font-size:1.4em;margin:.2em 0 .6em}h2{font-size:1.15em;margin:1.6em 0 .5em}
a{color:#1a56db}
.cards{display:flex;flex-wrap:wrap;gap:8px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:1.5em}.card span{color:var(--muted);font-size:.85em}
.note{background:#fff8e1;border:1px solid #f3d37a;border-radius:6px;padding:6px 10px;font-size:.9em}
.scroll{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#eef1f5;position:sticky;top:0}
td.num,th.num{text-align:right;white-space:nowrap}
td.path{word-break:break-all;min-width:12em}
.rel{font-weight:600;white-space:nowrap}.rel.exact{color:var(--exact)}
.rel.near_duplicate{color:var(--near_duplicate)}.rel.partial{color:var(--partial)}
.bar{display:inline-block;vertical-align:middle;width:70px;height:8px;background:#e5e7eb;border-radius:4px;margin-left:6px}
.bar i{display:block;height:100%;background:var(--exact);border-radius:4px}
ul.sources{margin:0;padding-left:1.1em;overflow-wrap:anywhere;min-width:14em}
input[type=search]{width:100%;max-width:420px;padding:6px 8px;margin:4px 0 8px;border:1px solid var(--line);border-radius:6px}
.graphs{display:flex;flex-wrap:wrap;gap:10px}
.graphs svg{background:var(--card);border:1px solid var(--line);border-radius:8px;max-width:100%;height:auto}
.graphs text{font-size:11px;fill:var(--fg)}
.graphs line{stroke-width:3}.graphs a:hover line{stroke-width:6}.graphs circle{fill:#455a64}.graphs circle.checked{fill:var(--exact)}
.graphs line.exact{stroke:var(--exact)}.graphs line.near_duplicate{stroke:var(--near_duplicate)}.graphs line.partial{stroke:var(--partial)}
details.pair{background:var(--card);border:1px solid var(--line);border-radius:8px;margin:10px 0}
details.pair>summary{cursor:pointer;padding:8px 12px;font-weight:600;word-break:break-all}
.pairbody{padding:0 12px 12px}
.pairbody ul{margin:.3em 0}
.legend{font-size:.85em;color:var(--muted)}
.legend span{padding:0 4px;border-radius:3px}
.sbs{display:grid;grid-template-columns:1fr 1fr;gap:10px}
.side h3{font-size:.9em;margin:.4em 0;word-break:break-all}
.text{white-space:pre-wrap;overflow-wrap:anywhere;max-height:75vh;overflow-y:auto;border:1px solid var(--line);
border-radius:6px;padding:8px 10px;background:#fcfcfd;font-size:.95em;line-height:1.7}
.m{border-radius:3px;cursor:pointer}.m.bp{background:#eceff1;color:var(--muted);cursor:default}
.m.flash{outline:3px solid #1a56db}
mark{background:none;color:var(--chg);font-weight:700;text-decoration:underline wavy var(--chg)}
.only{background:repeating-linear-gradient(135deg,#fde8e8 0 6px,#fff 6px 12px);color:#7f1d1d}
a.k{display:inline-block;font:600 10px/1.5 system-ui,sans-serif;color:#fff;background:#475569;border-radius:8px;
padding:0 5px;margin-right:2px;text-decoration:none;vertical-align:text-top}
a.nx{font-size:13px;text-decoration:none;color:#475569;margin-left:2px}
nav.passages a{display:inline-block;margin:2px 3px 2px 0;padding:0 6px;border-radius:4px;color:var(--fg);text-decoration:none;
border:1px solid var(--line)}
@media (max-width:760px){main{padding:8px}.sbs{grid-template-columns:1fr}.text{max-height:55vh}
body{font-size:14px}.card{min-width:90px;padding:6px 10px}
table thead{display:none}table tr{display:grid;grid-template-columns:2.4em 1fr auto;border-bottom:1px solid var(--line);padding:4px 0}
table td{border:0;padding:1px 6px;min-width:0}td.path{min-width:0}
#pairs td:nth-child(4),#pairs td:nth-child(6){grid-column:1/3;padding-left:2.8em}
#pairs td:nth-child(4)::before{content:"a: ";color:var(--muted)}#pairs td:nth-child(6)::before{content:"b: ";color:var(--muted)}
#pairs td:nth-child(8){display:none}
#checked tr{grid-template-columns:1fr}#checked td.num{text-align:left}
#checked td:nth-child(2)::before{content:"characters ";color:var(--muted)}
#checked td:nth-child(3)::before{content:"copy ratio ";color:var(--muted)}
#checked td:nth-child(4)::before{content:"largest source ";color:var(--muted)}}
"""

JS = """
(function(){
function openAround(el){for(var d=el.closest('details');d;d=d.parentElement.closest('details'))d.open=true;}
function reveal(t,from){
  openAround(t);
  var col=t.closest('.text');
  if(!col){t.scrollIntoView({block:'start'});return;}
  var fc=from&&from.closest('.text'),beside=fc&&fc!==col&&
    Math.abs(fc.getBoundingClientRect().top-col.getBoundingClientRect().top)<4;
  var off=beside?from.getBoundingClientRect().top-fc.getBoundingClientRect().top:8;
  col.scrollTop+=t.getBoundingClientRect().top-col.getBoundingClientRect().top-off;
  if(!beside)col.scrollIntoView({block:'nearest'});
  t.classList.add('flash');setTimeout(function(){t.classList.remove('flash');},1200);
}
function target(a){var h=a.getAttribute('href')||'';return h.charAt(0)==='#'?document.getElementById(h.slice(1)):null;}
document.addEventListener('click',function(e){
  var a=e.target.closest('a[href^="#"]'),m=e.target.closest('.m[data-to]');
  var t=a?target(a):m?document.getElementById(m.getAttribute('data-to')):null;
  if(!t)return;
  e.preventDefault();
  reveal(t,a?(a.closest('.m')||a):m);
  history.replaceState(null,'','#'+t.id);
});
function fromHash(){var t=location.hash&&document.getElementById(decodeURIComponent(location.hash.slice(1)));if(t)reveal(t);}
window.addEventListener('hashchange',fromHash);fromHash();
var box=document.querySelector('input[data-filter]');
if(box)box.addEventListener('input',function(){
  var q=box.value.toLowerCase(),rows=document.querySelectorAll('#'+box.getAttribute('data-filter')+' tbody tr');
  for(var i=0;i<rows.length;i++)rows[i].hidden=q&&rows[i].textContent.toLowerCase().indexOf(q)<0;
});
var sides=document.querySelectorAll('details[open] .sbs>.side');
if(sides.length>1)document.body.setAttribute('data-layout',
  sides[1].getBoundingClientRect().left>sides[0].getBoundingClientRect().left?'beside':'stacked');
document.body.setAttribute('data-ready',String(document.querySelectorAll('.m[data-to]').length));
})();
"""
