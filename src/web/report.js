// report.js — the report page's script (src/web/report.html loads it from /report.js: the page's CSP allows no inline
// script). Reads everything from the API with the token of the page's fragment (docs/http-api.md, GET /report/SITE).
(function(){
'use strict';
var $=function(id){return document.getElementById(id)};
var NS='http://www.w3.org/2000/svg';
// DOM builders: every string becomes a text node; no innerHTML anywhere.
function add(e,kids){kids.forEach(function(c){if(Array.isArray(c))add(e,c);else if(c!=null&&c!==false)e.appendChild(c instanceof Node?c:document.createTextNode(String(c)))})}
function h(tag,at){var e=document.createElement(tag);for(var k in at||{}){var v=at[k];if(v==null||v===false)continue;if(k==='on')for(var ev in v)e.addEventListener(ev,v[ev]);else e.setAttribute(k==='cls'?'class':k,v)}add(e,[].slice.call(arguments,2));return e}
function s(tag,at){var e=document.createElementNS(NS,tag);for(var k in at||{})if(at[k]!=null)e.setAttribute(k,at[k]);add(e,[].slice.call(arguments,2));return e}

// ---- formatting
var nf=new Intl.NumberFormat('en-US');
function N(v){return v==null?'—':nf.format(v)}
function pct(r){if(r==null)return'—';var v=r*100;return(v>0&&v<10?v.toFixed(1):Math.round(v))+'%'}
function dur(ms){if(ms==null)return'—';var t=Math.round(ms/1000);if(t<60)return t+'s';var p=function(n){return(n<10?'0':'')+n};if(t<3600)return Math.floor(t/60)+'m '+p(t%60)+'s';return Math.floor(t/3600)+'h '+p(Math.floor(t%3600/60))+'m'}
function ratio(r){return r==null?'—':r.toFixed(2)+'×'}
function sgn(v,d){var a=Math.abs(v),t=a<10?+a.toFixed(1):Math.round(a);return(t===0?'±':v>0?'+':'−')+t+d}
// change badge: kind 'rel' (relative), 'pp' (percentage points); inv: up is bad
function chg(v,kind,inv,prev,cur){
  if(v==null){if(kind==='rel'&&prev===0&&cur>0)return h('span',{cls:'chg up'},'new');return h('span',{cls:'chg mut'},'—')}
  var x=kind==='pp'?v*100:v*100,t=kind==='pp'?sgn(x,' pts'):sgn(x,'%');
  return h('span',{cls:'chg '+(Math.abs(x)<0.05?'mut':(x>0)!==!!inv?'up':'dn')},t)}
var MON=['Jan','Feb','Mar','Apr','May','Jun','Jul','Aug','Sep','Oct','Nov','Dec'];
function fd(d,y){if(!d)return'';var p=d.split('-');return MON[p[1]-1]+' '+(+p[2])+(y?', '+p[0]:'')}
function addD(d,n){return new Date(Date.parse(d+'T00:00:00Z')+n*864e5).toISOString().slice(0,10)}
function ndays(a,b){return Math.round((Date.parse(b)-Date.parse(a))/864e5)+1}
function ttl(r){return r.title||r.path||'(untitled)'}
var DN;try{DN=new Intl.DisplayNames(['en'],{type:'region'})}catch(e){}
function country(c){if(!c)return'Unknown';try{var n=DN&&DN.of(c);return n&&n!==c?n+' ('+c+')':c}catch(e){return c}}

// ---- state (mirrored in the URL so a link reproduces the view)
var Q=new URLSearchParams(location.search);
var segs=location.pathname.split('/').filter(Boolean);
var SITE='';try{SITE=decodeURIComponent(segs[segs.length-1]||'')}catch(e){SITE=segs[segs.length-1]||''}
var ROOT=location.pathname.replace(/\/report\/[^/]*\/?$/,'');
var API=ROOT+'/api/v1/sites/'+encodeURIComponent(SITE)+'/';
// ---- the token (docs/http-api.md, GET /report/SITE): read from the fragment (#token=…: a browser never sends it to a
// server, a log or a Referer) or, once, from an old ?token= link; kept in memory and in this tab's sessionStorage (so a
// reload keeps the report open; closing the tab forgets it), and taken out of the address at once (writeURL below).
var TK='dwell-token:'+SITE;
function readToken(){var t=new URLSearchParams(location.hash.replace(/^#/,'')).get('token')||Q.get('token')||'';
  try{if(t)sessionStorage.setItem(TK,t);else t=sessionStorage.getItem(TK)||''}catch(e){}return t}
function keepToken(t){S.token=t;try{if(t)sessionStorage.setItem(TK,t)}catch(e){}}
function dropToken(){try{sessionStorage.removeItem(TK)}catch(e){}}
var S={token:readToken(),days:Math.min(3660,Math.max(0,parseInt(Q.get('days'),10)||0)),from:Q.get('from')||'',to:Q.get('to')||'',
  bots:Q.get('include_bots')==='1',sort:Q.get('sort')||'views',order:Q.get('order')==='asc'?'asc':'desc',prefix:Q.get('prefix')||'',
  cat:Q.get('category')||'',win:/^(30m|24h|7d)$/.test(Q.get('window'))?Q.get('window'):'24h',dso:Q.get('dsort')||'contact_rate',dor:Q.get('dorder')==='asc'?'asc':'desc',off:Math.max(0,parseInt(Q.get('offset'),10)||0),art:Q.get('article')||'',limit:50,total:0,more:false};
if(!S.days&&!(S.from&&S.to))S.days=30;
writeURL();
var cats={};
// presets ask the server for the N full days before today (it decides the dates; docs/metrics.md, Full days)
function rng(){return S.days?{days:S.days}:{from:S.from,to:S.to}}
function rq(x){var p=rng();if(S.bots)p.include_bots='1';for(var k in x||{})if(x[k]!==''&&x[k]!=null)p[k]=x[k];return p}
function qs(p){return new URLSearchParams(p).toString()}
function writeURL(){
  var u={};
  if(S.days){if(S.days!==30)u.days=S.days}else{u.from=S.from;u.to=S.to}
  if(S.bots)u.include_bots='1';
  if(S.sort!=='views'||S.order!=='desc'){u.sort=S.sort;u.order=S.order}
  if(S.win!=='24h')u.window=S.win;if(S.dso!=='contact_rate'||S.dor!=='desc'){u.dsort=S.dso;u.dorder=S.dor}
  if(S.prefix)u.prefix=S.prefix;if(S.cat)u.category=S.cat;if(S.off)u.offset=S.off;if(S.art)u.article=S.art;
  var q=qs(u);history.replaceState(null,'',location.pathname+(q?'?'+q:''))}
// CSV links carry no token: a click fetches the file with the Authorization header and saves it from a blob.
function csvURL(path,p){return API+path+'.csv?'+qs(p)}
document.addEventListener('click',function(e){var a=e.target.closest&&e.target.closest('a[download][href*=".csv?"]');if(!a)return;e.preventDefault();
  if(!S.token){askToken('This report needs an access token.');return}
  fetch(a.href,{headers:{Authorization:'Bearer '+S.token,Accept:'text/csv'},cache:'no-store'}).then(function(r){
    if(!r.ok)return r.json().catch(function(){return null}).then(function(j){throw new Error((j&&j.error)||'The server answered '+r.status+'.')});return r.blob()})
  .then(function(b){var u=URL.createObjectURL(b),t=h('a',{href:u,download:a.getAttribute('download')||'dwell.csv'});document.body.appendChild(t);t.click();t.remove();
    setTimeout(function(){URL.revokeObjectURL(u)},60000)},function(e){fail(e.message?e:new Error('Could not reach the dwell server.'))})});

// ---- API
var AUTH={auth:1};
function api(path,p){
  if(!S.token){askToken('This report needs an access token.');return Promise.reject(AUTH)}
  return fetch(API+path+'?'+qs(p),{headers:{Authorization:'Bearer '+S.token,Accept:'application/json'},cache:'no-store'})
  .catch(function(){throw new Error('Could not reach the dwell server.')})
  .then(function(r){return r.json().catch(function(){return null}).then(function(j){
    if(r.status===401||r.status===403){dropToken();askToken(r.status===401?'The token was not accepted: it may be mistyped, expired or revoked.':'This token may not read the site “'+SITE+'”.',j&&j.error);throw AUTH}
    if(!r.ok||!j)throw new Error((j&&j.error)||'The server answered '+r.status+'.');
    return j})})}
function fail(e){if(e===AUTH)return;var m=$('msg');m.textContent=e&&e.message||String(e);m.hidden=false}
function askToken(msg,det){$('authmsg').textContent=msg+(det?' (server: '+det+')':'');$('auth').hidden=false;$('main').hidden=true;closeDetail(1);$('tok').focus()}
function busy(id,on){var e=$(id);e.classList.toggle('busy',!!on);e.setAttribute('aria-busy',on?'true':'false')}

// ---- charts
function ticks(mx){if(!(mx>0))return[0,1];var raw=mx/4,p=Math.pow(10,Math.floor(Math.log10(raw))),st=[1,2,2.5,5,10].map(function(m){return m*p}).filter(function(v){return v>=raw})[0];st=Math.max(1,st);var r=[];for(var v=0;v<mx+st;v+=st)r.push(v);return r}
function kfmt(v){return v>=1e6?+(v/1e6).toFixed(1)+'M':v>=1e4?+(v/1e3).toFixed(1)+'k':nf.format(v)}
function yaxis(svg,yt,L,W,y){yt.forEach(function(v){svg.appendChild(s('line',{x1:L,x2:W,y1:y(v),y2:y(v),'class':'gl'}));svg.appendChild(s('text',{x:L-5,y:y(v)+4,'text-anchor':'end'},kfmt(v)))})}
var KEYS=[['views','Views','1'],['visitors','Visitors','2'],['reads','Reads','3']];
function daily(el,ser,bars){
  el.textContent='';if(!ser||!ser.length){el.appendChild(h('p',{cls:'mut'},'No data.'));return}
  var W=Math.max(260,el.clientWidth),H=W<560?160:210,L=42,R=8,T=10,B=22,pw=W-L-R,ph=H-T-B,n=ser.length,st=pw/n;
  var ks=bars?[KEYS[0],KEYS[2]]:KEYS;
  var mx=0;ser.forEach(function(d){ks.forEach(function(k){mx=Math.max(mx,d[k[0]]||0)})});
  var yt=ticks(mx),ym=yt[yt.length-1],y=function(v){return T+ph-(v||0)/ym*ph},x=function(i){return L+(i+.5)*st};
  var svg=s('svg',{width:W,height:H,role:'img','aria-label':'Daily '+ks.map(function(k){return k[1].toLowerCase()}).join(', ')});
  yaxis(svg,yt,L,W-R,y);
  if(bars){var bw=Math.max(1,Math.min(28,st*.8));ser.forEach(function(d,i){
    svg.appendChild(s('rect',{x:x(i)-bw/2,y:y(d.views),width:bw,height:T+ph-y(d.views),'class':'b1'}));
    svg.appendChild(s('rect',{x:x(i)-bw/2,y:y(d.reads),width:bw,height:T+ph-y(d.reads),'class':'b3'}))})}
  else ks.forEach(function(k){var pts=ser.map(function(d,i){return x(i).toFixed(1)+','+y(d[k[0]]).toFixed(1)});
    svg.appendChild(s('path',{d:'M'+pts.join('L'),'class':'l'+k[2]}));
    if(n<3)ser.forEach(function(d,i){svg.appendChild(s('circle',{cx:x(i),cy:y(d[k[0]]),r:3,'class':'b3'}))})});
  var every=Math.max(1,Math.ceil(n/(pw/62)));
  ser.forEach(function(d,i){
    var tip=fd(d.date,1)+': '+ks.map(function(k){return N(d[k[0]])+' '+k[1].toLowerCase()}).join(', ')+(d.engaged_p50_ms!==undefined?', median engaged '+dur(d.engaged_p50_ms):'');
    svg.appendChild(s('rect',{x:L+i*st,y:T,width:st,height:ph,'class':'hv'},s('title',{},tip)));
    if(i%every===0)svg.appendChild(s('text',{x:x(i),y:H-6,'text-anchor':i===0&&every>1?'start':'middle'},fd(d.date)))});
  svg.appendChild(s('line',{x1:L,x2:W-R,y1:T+ph,y2:T+ph,'class':'ax'}));
  el.appendChild(svg);
  el.appendChild(h('div',{cls:'lg'},ks.map(function(k){return h('span',{},h('i',{cls:bars?(k[2]==='1'?'acc2':'acc'):(k[2]==='1'?'acc':k[2]==='2'?'acc2':'acc3')}),k[1])})))}
// Read-time histogram. The API's buckets are 1 s wide below 1 min, 5 s to 5 min, 30 s beyond; they are merged
// into equal display bins whose width w is a multiple of every bucket width in range, so the time axis is linear
// and every bar is an exact sum. The slowest ~2 % go into one last, paler "≥" bar.
var BW=[1,2,5,10,15,30,60,120,300,600,1200],TS=[1,2,5,10,15,30,60,120,300,600,900,1800,3600];
function tl(t){return t<60?t+'s':t>=3600&&t%3600===0?t/3600+'h':t%60?Math.floor(t/60)+'m'+t%60+'s':t/60+'m'}
function hist(el,b,a){
  el.textContent='';b=b||[];var tot=0,i,c=0;b.forEach(function(x){tot+=x.count});
  if(!tot){el.appendChild(h('p',{cls:'mut'},'No engaged time recorded in this range.'));return}
  var end=b[b.length-1].upper_ms/1000,cut=end;
  for(i=0;i<b.length;i++){c+=b[i].count;if(c>=tot*.98){cut=b[i].upper_ms/1000;break}}
  if(end<=cut*1.25)cut=end;
  var W=Math.max(260,el.clientWidth),H=200,L=42,R=10,T=26,B=22,pw=W-L-R,ph=H-T-B,mb=Math.max(20,Math.min(90,pw/7)),w;
  for(i=0;i<BW.length;i++){w=BW[i];if((w>=30||cut<=(w>=5?300:60))&&cut/w<=mb)break}
  var nb=Math.max(1,Math.ceil(cut/w)),bins=[],tail=0;for(i=0;i<nb;i++)bins.push(0);
  b.forEach(function(q){var k=Math.floor(q.lower_ms/1000/w);if(k>=nb)tail+=q.count;else bins[k]+=q.count});
  var n=nb+(tail?1:0),bw=pw/n,all=tail?bins.concat([tail]):bins;
  var yt=ticks(Math.max.apply(null,all)),ym=yt[yt.length-1],y=function(v){return T+ph-v/ym*ph};
  var x=function(s){return L+Math.min(s/w,tail?nb+.5:nb)*bw};
  var svg=s('svg',{width:W,height:H,'data-test':'histogram',role:'img','aria-label':'Read-time histogram'});
  if(w<=5)svg.appendChild(s('rect',{x:L,y:T,width:x(5)-L,height:ph,'class':'qz'},s('title',{},'Quick exits: under 5 s engaged')));
  yaxis(svg,yt,L,W-R,y);
  var g=bw>4?1:bw>2?.5:0;
  all.forEach(function(v,i){var t=i===nb,lo=i*w;
    svg.appendChild(s('rect',{x:L+i*bw+g,y:y(v),width:Math.max(.6,bw-2*g),height:T+ph-y(v),'class':'hb'+(t?' t':''),'data-lower':lo*1000,'data-count':v},
      s('title',{},(t?'≥ '+dur(lo*1000):dur(lo*1000)+' – '+dur((lo+w)*1000))+': '+N(v)+' views ('+pct(v/tot)+')')))});
  var st=TS.filter(function(t){return t%w===0&&t/w*bw>=44})[0]||nb*w;
  for(var t=0;t<=nb*w;t+=st){var xx=L+t/w*bw;svg.appendChild(s('line',{x1:xx,x2:xx,y1:T+ph,y2:T+ph+4,'class':'ax'}));
    if(!tail||t<nb*w)svg.appendChild(s('text',{x:xx,y:H-6,'text-anchor':t?'middle':'start'},tl(t)))}
  if(tail)svg.appendChild(s('text',{x:W-R,y:H-6,'text-anchor':'end'},'≥'+tl(nb*w)));
  svg.appendChild(s('line',{x1:L,x2:W-R,y1:T+ph,y2:T+ph,'class':'ax'}));
  var px=-99,row=0,mk=[['p50',a.engaged_p50_ms],['p75',a.engaged_p75_ms],['p90',a.engaged_p90_ms]];
  mk.forEach(function(m){if(m[1]==null)return;var xx=x(m[1]/1000);row=xx-px<28?row+1:0;px=xx;
    svg.appendChild(s('line',{x1:xx,x2:xx,y1:T-2,y2:T+ph,'class':'mk'}));
    svg.appendChild(s('text',{x:xx,y:9+Math.min(row,2)*8,'text-anchor':'middle'},m[0]))});
  el.appendChild(svg);
  el.appendChild(h('p',{cls:'mut sm'},'Engaged time per view; each bar is '+dur(w*1000)+(tail?', the last holds the slowest '+pct(tail/tot)+' (≥ '+dur(nb*w*1000)+')':'')+
    '. Dashed: median '+dur(a.engaged_p50_ms)+', p75 '+dur(a.engaged_p75_ms)+', p90 '+dur(a.engaged_p90_ms)+'.'+(w<=5?' Shaded: quick exits (under 5 s).':'')))}
function bl(el,items,lab,tag,at){
  el.textContent='';if(!items||!items.length){el.appendChild(h('li',{cls:'mut'},'None in this range.'));return}
  var mx=1,tot=0;items.forEach(function(x){mx=Math.max(mx,x.count);tot+=x.count});
  items.forEach(function(x){var l=lab?lab(x):x.value,sp=h('span');sp.style.width=(x.count/mx*100)+'%';
    el.appendChild(h('li',at?at(x):{},h('span',{cls:'lb',title:l},h('span',{},l),tag&&tag(x)),h('span',{cls:'tr'},sp),h('span',{cls:'num'},N(x.count))))})}

// ---- summary
var sq=0;
function loadSummary(){var my=++sq;busy('main',1);
  return api('summary',rq()).then(function(d){if(my!==sq)return;S.sum=d;drawSummary(d)}).catch(function(e){if(my===sq)fail(e)}).then(function(){if(my===sq)busy('main',0)})}
// today so far: the summary of today alone, shown apart and never compared (docs/metrics.md, Full days and today so far)
var tq=0;
function drawToday(rg){var el=$('tsf'),my=++tq;if(!rg.today||rg.includes_today){el.hidden=true;return}
  var p={from:rg.today,to:rg.today};if(S.bots)p.include_bots='1';
  api('summary',p).then(function(d){if(my!==tq)return;var T=d.totals||{};el.textContent='';
    add(el,['Today so far (',fd(rg.today),', UTC, not over yet): ',[['views','views'],['visitors','visitors'],['reads','reads'],['searches','searches']].map(function(x,i){
      return[i?' · ':'',h('b',{'data-test':'today-'+x[0],'data-value':T[x[0]]},N(T[x[0]])),' '+x[1]]}),info('today','Today so far')]);el.hidden=false})
  .catch(function(){if(my===tq)el.hidden=true})}
var CARDS=[['views','Views',N,'rel'],['visitors','Visitors',N,'rel'],['reads','Reads',N,'rel'],['read_rate','Read rate',pct,'pp'],['read_through','Read-through',pct,'pp'],
  ['quick_exit_rate','Quick exits',pct,'pp',1],['engaged_p50_ms','Engaged median',dur,'rel'],['helpful_rate','Helpful',pct,'pp'],['searches','Searches',N,'rel']];
// ---- definitions: the server's legend (src/legend.c, the one declaration), behind an ⓘ button each
var LK={quick_exit_rate:'quick_exits',engaged_p50_ms:'engaged_p50',helpful_rate:'helpful'},LEG=null,legP=null,tipB=null;
function info(k,l){k=LK[k]||k;return h('button',{type:'button',cls:'ib','data-info':k,'aria-label':'About '+l,'aria-expanded':'false','aria-controls':'tip'},'i')}
function legend(){if(!legP)legP=api('legend',{}).then(function(d){LEG={};(d.metrics||[]).forEach(function(m){LEG[m.key]=m});return LEG},function(e){legP=null;throw e});return legP}
function hideTip(back){if(!tipB)return;var b=tipB;tipB=null;b.setAttribute('aria-expanded','false');$('tip').hidden=true;if(back)b.focus()}
function showTip(b){hideTip();tipB=b;b.setAttribute('aria-expanded','true');var t=$('tip'),k=b.getAttribute('data-info');
  $('tipl').textContent=b.getAttribute('aria-label').replace(/^About /,'');$('tipt').textContent='Loading…';$('tipa').textContent='';t.hidden=false;place();
  legend().then(function(L){if(tipB!==b)return;var m=L[k];$('tipt').textContent=m?m.definition:'No definition.';
    if(m){var a=$('tipa');a.href=ROOT+'/'+m.doc;a.textContent='More: '+m.doc}place()}).catch(function(e){if(tipB===b)$('tipt').textContent=e===AUTH?'':e.message||String(e)})}
function place(){if(!tipB)return;var t=$('tip'),r=tipB.getBoundingClientRect(),w=t.offsetWidth,hh=t.offsetHeight,x=Math.max(8,Math.min(r.left,innerWidth-w-8)),y=r.bottom+6;
  if(y+hh>innerHeight-8&&r.top-hh-6>8)y=r.top-hh-6;t.style.left=x+'px';t.style.top=y+'px'}
document.addEventListener('click',function(e){var b=e.target.closest&&e.target.closest('.ib');if(b){e.preventDefault();e.stopPropagation();if(tipB===b)hideTip();else showTip(b);return}
  if(tipB&&!$('tip').contains(e.target))hideTip()},true);
addEventListener('keydown',function(e){if(e.key==='Escape'&&tipB){e.stopPropagation();hideTip(1)}},true);
addEventListener('scroll',function(){place()},true);addEventListener('resize',function(){place()});
function cmpv(k,kind,T,P,C){if(kind==='pp')return T[k]==null||P[k]==null?null:T[k]-P[k];if(C&&C[k]!==undefined)return C[k];return P[k]?(T[k]-P[k])/P[k]:null}
function drawSummary(d){
  var T=d.totals||{},P=d.previous_totals||{},C=d.change||{},pv=d.previous||{};
  $('from').value=d.from||'';$('to').value=d.to||'';
  var rg=d.range||{};S.today=rg.today||S.today;if(S.today){$('from').max=S.today;$('to').max=S.today}
  $('cmp').textContent=fd(d.from)+' – '+fd(d.to,1)+' ('+ndays(d.from,d.to)+' days, UTC'+(rg.includes_today?'; includes today, a partial day':'')+')'+(rg.clamped?' · ends today: '+fd(rg.requested_to,1)+' is in the future':'')+(pv.from?' · compared with '+fd(pv.from)+' – '+fd(pv.to,1):'');
  $('cmp').appendChild(info('views_change','Change'));drawToday(rg);
  var box=$('totals');box.textContent='';
  CARDS.forEach(function(c){var k=c[0],sub=[];
    if(k==='engaged_p50_ms')sub.push('p75 '+dur(T.engaged_p75_ms)+' · p90 '+dur(T.engaged_p90_ms));
    if(k==='helpful_rate')sub.push(N(T.votes_up)+' up · '+N(T.votes_down)+' down');
    box.appendChild(h('div',{cls:'card'},h('span',{cls:'l'},c[1],info(k,c[1])),
      h('span',{cls:'v','data-test':'total-'+k.replace(/_ms$/,''),'data-value':T[k]},c[2](T[k])),
      h('span',{cls:'s'},h('span',{'data-test':'change-'+k.replace(/_ms$/,'')},chg(cmpv(k,c[3],T,P,C),c[3],c[4],P[k],T[k])),' vs '+c[2](P[k])),
      sub.length?h('div',{cls:'s'},sub.join(' ')):null))});
  daily($('chart'),d.series,false);$('dcsv').href=csvURL('summary',rq());
  var at=$('attn');at.textContent='';
  (d.needs_attention||[]).forEach(function(r){at.appendChild(h('li',{'data-id':r.id},h('button',{type:'button',cls:'lnk',on:{click:function(){openDetail(r.id)}}},ttl(r)),
    h('div',{cls:'mut sm'},r.attention_reason||'',' · '+N(r.views)+' views · helpful '+pct(r.helpful_rate)+' · median '+dur(r.engaged_p50_ms))))});
  if(!at.firstChild)at.appendChild(h('li',{cls:'mut'},'Nothing stands out in this range.'));
  S.more=false;$('more').hidden=(d.top_searches||[]).length<20;drawSearches(d.top_searches,d.zero_result_searches);
  [].concat(d.top_articles||[],d.needs_attention||[],d.no_views||[]).forEach(function(r){if(r.category)cats[r.category]=1});
  (d.categories||[]).forEach(function(c){cats[c.value||c]=1});fillCats();
  var nv=d.no_views||[],ul=$('novl');ul.textContent='';$('nov').hidden=!nv.length;
  $('nov').firstChild.textContent='Known articles not viewed in this range ('+nv.length+')';
  nv.forEach(function(r){ul.appendChild(h('li',{},h('b',{},ttl(r)),' ',h('span',{cls:'mut'},r.path||'',r.category?' · '+r.category:'')))})}
function zt(x){var z=typeof x.zero_results==='number'?x.zero_results:x.zero_results?x.count:0;return z?h('span',{cls:'tag',title:z+' of '+x.count+' found nothing'},typeof x.zero_results==='number'&&z<x.count?N(z)+' no results':'no results'):null}
function drawSearches(top,zero){var q=function(x){return x.query||'(empty)'};
  bl($('ts'),top,q,zt);bl($('zs'),zero,q);$('scsv').href=csvURL('searches',rq({limit:S.more?100:20}))}
$('more').onclick=function(){var b=this;b.disabled=true;api('searches',rq({limit:100})).then(function(d){S.more=true;b.hidden=true;drawSearches(d.searches,d.zero_result_searches)}).catch(fail).then(function(){b.disabled=false})};
function fillCats(){var dl=$('cats');dl.textContent='';Object.keys(cats).sort().forEach(function(c){dl.appendChild(h('option',{value:c}))})}

// ---- articles table
var COLS=[{k:'title',l:'Title',t:1},{k:'path',l:'Path',t:1,m:1},{k:'category',l:'Category',t:1,m:1},
  {k:'views',l:'Views',f:N},{k:'views_change',l:'Change',c:1},{k:'visitors',l:'Visitors',f:N},{k:'reads',l:'Reads',f:N,x:1},
  {k:'read_rate',l:'Read rate',f:pct},{k:'read_through',l:'Read-through',f:pct},{k:'quick_exits',l:'Quick exits',v:'quick_exit_rate',f:pct},
  {k:'engaged_p50',l:'Median time',v:'engaged_p50_ms',f:dur},{k:'engaged_p75',l:'p75',v:'engaged_p75_ms',f:dur,x:1},{k:'engaged_p90',l:'p90',v:'engaged_p90_ms',f:dur},
  {k:'engaged_mean',l:'Mean',v:'engaged_mean_ms',f:dur,x:1},{k:'read_ratio',l:'Read ratio',f:ratio},{k:'helpful',l:'Helpful',v:'helpful_rate',f:pct},
  {k:'votes',l:'Votes',x:1},{k:'words',l:'Words',f:N,x:1,ns:1}];
var narrow=matchMedia('(max-width:760px)');function cols(){return narrow.matches?COLS.filter(function(c){return!c.m}).concat(COLS.filter(function(c){return c.m})):COLS}
function header(){var tr=$('hdr');tr.textContent='';cols().forEach(function(c){
  var on=S.sort===c.k,th=h('th',{cls:(c.t?'':'n')+(c.x?' x':''),scope:'col','aria-sort':on?(S.order==='asc'?'ascending':'descending'):null});
  th.appendChild(h('div',{cls:'thw'},c.ns?h('span',{cls:'ns'},c.l):h('button',{type:'button','data-sort':c.k},c.l,on?(S.order==='asc'?'\u00a0▲':'\u00a0▼'):''),info(c.k,c.l)));tr.appendChild(th)})}
$('hdr').addEventListener('click',function(e){var b=e.target.closest('button[data-sort]');if(!b)return;var k=b.getAttribute('data-sort'),c=COLS.filter(function(x){return x.k===k})[0];
  if(S.sort===k)S.order=S.order==='asc'?'desc':'asc';else{S.sort=k;S.order=c.t?'asc':'desc'}S.off=0;header();loadArticles()});
function cell(c,r){var td=h('td',{'data-col':c.k,cls:(c.t?'':'n')+(c.x?' x':'')}),v=r[c.v||c.k];
  if(c.t){v=c.k==='title'?ttl(r):v;td.textContent=v==null||v===''?'—':v;if(v)td.title=v;return td}
  if(c.k==='votes'){v=(r.votes_up||0)+(r.votes_down||0);td.textContent=N(r.votes_up)+' / '+N(r.votes_down)}
  else if(c.c){td.appendChild(chg(v,'rel',0,r.views_prev,r.views));td.title='previous period: '+N(r.views_prev)+' views'}
  else{td.textContent=c.f(v);if(c.k==='helpful'&&(r.votes_up||r.votes_down))td.title=N(r.votes_up)+' up, '+N(r.votes_down)+' down'}
  if(v!=null)td.setAttribute('data-value',v);return td}
var sa=0;
function loadArticles(){var my=++sa;busy('tw',1);writeURL();
  var p=rq({sort:S.sort,order:S.order,limit:S.limit,offset:S.off,prefix:S.prefix,category:S.cat});
  return api('articles',p).then(function(d){if(my!==sa)return;
    if(d.total>0&&S.off>=d.total){S.off=Math.floor((d.total-1)/S.limit)*S.limit;return loadArticles()}
    S.arts=[d,p];drawArticles(d,p)}).catch(function(e){if(my===sa)fail(e)}).then(function(){if(my===sa)busy('tw',0)})}
function drawArticles(d,p){
  var tb=$('rows');tb.textContent='';S.total=d.total||0;
  (d.articles||[]).forEach(function(r){if(r.category)cats[r.category]=1;
    var tr=h('tr',{'data-test':'row','data-id':r.id,tabindex:'0'});cols().forEach(function(c){tr.appendChild(cell(c,r))});tb.appendChild(tr)});
  (d.categories||[]).forEach(function(c){cats[c.value||c]=1});fillCats();
  if(!tb.firstChild)tb.appendChild(h('tr',{},h('td',{colspan:COLS.length,cls:'mut'},S.prefix||S.cat?'No articles match these filters.':'No articles in this range.')));
  var o=d.offset||0,n=(d.articles||[]).length;
  $('pinfo').textContent=S.total?(o+1)+'–'+(o+n)+' of '+N(S.total):'';
  $('prev').disabled=o<=0;$('next').disabled=o+n>=S.total;
  var cl=Math.min(Math.max(S.total,1),1000),cp=Object.assign({},p,{limit:cl,offset:0});
  $('csv').href=csvURL('articles',cp);$('csv').textContent='Download CSV ('+(S.total>cl?'first '+N(cl)+' of '+N(S.total):N(S.total))+' rows)';
  $('csv').setAttribute('download','dwell-'+SITE.replace(/[^\w.-]/g,'_')+'-articles-'+d.from+'-'+d.to+'.csv')}
(narrow.addEventListener?narrow.addEventListener.bind(narrow,'change'):narrow.addListener.bind(narrow))(function(){header();if(S.arts)drawArticles(S.arts[0],S.arts[1])});
$('prev').onclick=function(){S.off=Math.max(0,S.off-S.limit);loadArticles()};
$('next').onclick=function(){S.off+=S.limit;loadArticles()};
function opener(tb){tb.addEventListener('click',function(e){var tr=e.target.closest('tr[data-id]');if(tr)openDetail(tr.getAttribute('data-id'))});
  tb.addEventListener('keydown',function(e){var tr=e.target.closest('tr[data-id]');if(tr&&(e.key==='Enter'||e.key===' ')){e.preventDefault();openDetail(tr.getAttribute('data-id'))}})}
opener($('rows'));
var ft;function filt(){clearTimeout(ft);ft=setTimeout(function(){var p=$('prefix').value.trim(),c=$('cat').value.trim();if(p===S.prefix&&c===S.cat)return;S.prefix=p;S.cat=c;S.off=0;loadArticles()},350)}
$('prefix').addEventListener('input',filt);$('cat').addEventListener('input',filt);$('cat').addEventListener('change',filt);
$('allc').onchange=function(){document.querySelector('table').classList.toggle('all',this.checked)};

// ---- detail
var sd=0,lastFocus=null;
function openDetail(id){
  if(!S.art||$('detail').hidden)lastFocus=document.activeElement;
  S.art=id;writeURL();var my=++sd,pane=$('detail');
  pane.hidden=false;$('shade').hidden=false;document.body.classList.add('lock');
  pane.textContent='';pane.appendChild(dhead(h('h2',{id:'dt'},'Loading…')));pane.querySelector('.cl').focus();
  api('articles/'+encodeURIComponent(id),rq()).then(function(d){if(my!==sd||S.art!==id)return;S.det=d;drawDetail(d)})
  .catch(function(e){if(my!==sd||e===AUTH)return;pane.appendChild(h('p',{cls:'dn'},e.message||String(e)))})}
function dhead(t,sub){return h('div',{cls:'dh'},h('div',{},t,sub),h('button',{type:'button',cls:'cl','aria-label':'Close',on:{click:function(){closeDetail()}}},'✕'))}
function closeDetail(quiet){if($('detail').hidden)return;sd++;S.art='';S.det=null;$('detail').hidden=true;$('shade').hidden=true;document.body.classList.remove('lock');
  if(!quiet){writeURL();if(lastFocus&&document.contains(lastFocus))lastFocus.focus()}}
$('shade').onclick=function(){closeDetail()};
document.addEventListener('keydown',function(e){if(e.key==='Escape'&&!$('detail').hidden)closeDetail()});
function mini(l,v,sub,k){return h('div',{cls:'card'},h('span',{cls:'l'},l,info(k,l)),h('span',{cls:'v'},v),sub?h('span',{cls:'s'},sub):null)}
function drawDetail(d){
  var a=d.article||{},pane=$('detail'),exp=a.words?a.words/230*60000:null;pane.textContent='';
  pane.appendChild(dhead(h('h2',{id:'dt'},ttl(a)),h('p',{cls:'mut'},a.path||'',a.category?' · '+a.category:'',' · '+(a.words==null?'— words':N(a.words)+' words'))));
  pane.querySelector('.cl').focus();
  pane.appendChild(h('p',{cls:'mut sm'},fd(d.from)+' – '+fd(d.to,1)+' · ',h('a',{href:csvURL('articles/'+encodeURIComponent(a.id),rq()),download:'dwell-article-'+a.id+'.csv'},'Download CSV')));
  var pc=h('span',{},chg(a.views_change,'rel',0,a.views_prev,a.views),' vs '+N(a.views_prev));
  var ec=a.engaged_p50_prev_ms?h('span',{},chg((a.engaged_p50_ms-a.engaged_p50_prev_ms)/a.engaged_p50_prev_ms,'rel'),' vs '+dur(a.engaged_p50_prev_ms)):'vs —';
  pane.appendChild(h('div',{cls:'cards'},mini('Views',N(a.views),pc,'views'),mini('Visitors',N(a.visitors),null,'visitors'),mini('Reads',N(a.reads),null,'reads'),
    mini('Read rate',pct(a.read_rate),null,'read_rate'),mini('Read-through',pct(a.read_through),null,'read_through'),mini('Quick exits',pct(a.quick_exit_rate),null,'quick_exits'),
    mini('Engaged median',dur(a.engaged_p50_ms),ec,'engaged_p50'),mini('Engaged p75',dur(a.engaged_p75_ms),null,'engaged_p75'),mini('Engaged p90',dur(a.engaged_p90_ms),'mean '+dur(a.engaged_mean_ms),'engaged_p90'),
    mini('Read ratio',ratio(a.read_ratio),exp?'expected '+dur(exp):null,'read_ratio'),mini('Helpful',pct(a.helpful_rate),N(a.votes_up)+' up · '+N(a.votes_down)+' down','helpful')));
  var hs=h('div',{cls:'chart',id:'dhist'}),ds=h('div',{cls:'chart',id:'dser'});
  pane.appendChild(h('section',{cls:'panel'},h('h2',{},'Read time'),hs));
  pane.appendChild(h('section',{cls:'panel'},h('h2',{},'Daily views'),ds));
  var sc=(d.scroll||[]).map(function(x){return{value:x.from===x.to?x.from+'%':x.from+'–'+x.to+'%',count:x.count}});
  var lists=[['Scroll depth reached',sc],['Countries',d.countries,function(x){return country(x.value)}],['Referrers',d.referrers,function(x){return x.value||'(direct or none)'}],
    ['Searches that led here',d.searches_led_here],['Searches made on this page',d.searches_here]];
  var g=h('div',{cls:'g2 panel'});lists.forEach(function(l){var ul=h('ul',{cls:'bl'});bl(ul,l[1],l[2]||function(x){return x.value||'(empty)'});g.appendChild(h('div',{},h('h3',{},l[0]),ul))});
  pane.appendChild(g);
  hist(hs,d.histogram,a);daily(ds,d.series,true)}

// ---- tickets after reading
var WN={'30m':'30 minutes','24h':'24 hours','7d':'7 days'};
function f1(v){return v==null?'—':v.toFixed(1)}
function sr(v){return v==null?'—':(v<0?'−':'+')+Math.abs(v).toFixed(2)}
function pr(c,f){f=f||pct;return c?f(c[0]).replace('%','')+'–'+f(c[1]):'—'}
var DC=[{k:'title',c:'article',l:'Article',t:1,i:'title'},{k:'contact_after_read',c:'contact_rate',l:'Contacted support',i:'contact_rate'},
  {k:'views',c:'views',l:'Views',i:'views'},{k:'followed_by_ticket',c:'tickets',l:'Tickets after',i:'followed_by_ticket'},
  {k:'median_read_to_ticket_s',c:'median',l:'Median read → ticket',i:'read_to_ticket'}];
if(!DC.some(function(c){return c.c===S.dso}))S.dso='contact_rate';
var stk=0;
function loadTickets(){var my=++stk,p=rng();p.window=S.win;marks();busy('tk',1);
  return Promise.all(['contact-after-read','topics','gaps'].map(function(k){return api(k,p)})).then(function(r){if(my!==stk)return;drawTickets(r[0],r[1],r[2])})
  .catch(function(e){if(my===stk)fail(e)}).then(function(){if(my===stk)busy('tk',0)})}
function drawTickets(d,t,g){
  var n=d.site_numbers||{},none=!n.tickets,w=WN[d.window]||d.window;
  $('tkw').textContent='Tickets of '+fd(d.from)+' – '+fd(d.to,1)+' and what their requesters read in the '+w+' before.';
  $('tke').hidden=!none;$('tkb').hidden=none;
  if(none){$('tke').textContent='No tickets in this range yet. Import them with “dwell tickets import FILE --site '+SITE+' --format …” or let your help desk post them to /api/v1/tickets, and this shows which articles and searches are followed by a ticket.';return}
  var box=$('tkn');box.textContent='';
  [['tickets','Tickets',N(n.tickets),n.tickets,N(n.requesters)+' requesters','tickets'],
   ['linked','Linked to a reader',N(n.linked_tickets),n.linked_tickets,pct(n.linked_tickets/n.tickets)+' of tickets','linked_tickets'],
   ['share','After reading',pct(n.share_of_tickets_after_reading),n.share_of_tickets_after_reading,N(n.tickets_with_read)+' tickets','after_reading'],
   ['score','Self-service score',f1(n.self_service_score),n.self_service_score,'visitors per requester','self_service_score'],
   ['per1000','Tickets per 1,000 views',f1(n.tickets_per_1000_views),n.tickets_per_1000_views,N(n.views)+' views','tickets_per_1000_views']].forEach(function(c){
    box.appendChild(h('div',{cls:'card'},h('span',{cls:'l'},c[1],info(c[5],c[1])),h('span',{cls:'v','data-test':'tk-'+c[0],'data-value':c[3]},c[2]),h('span',{cls:'s'},c[4])))});
  var ls=d.linked_share||{},lk=$('dlink');lk.setAttribute('data-linked',ls.linked_tickets);lk.setAttribute('data-tickets',ls.tickets);lk.setAttribute('data-share',ls.share);
  lk.textContent='Only tickets linked to a reader count here: '+N(ls.linked_tickets)+' of '+N(ls.tickets)+' tickets ('+pct(ls.share)+') in this range. The other '+N(ls.tickets-ls.linked_tickets)+' cannot be tied to any view, so each rate is a lower bound.';
  S.dr=d.articles||[];S.dw=w;S.dall=false;drawDefl();
  var tp=$('tps');tp.textContent='';
  (t.topics||[]).slice().sort(function(a,b){return b.evidence-a.evidence}).forEach(function(x){tp.appendChild(topic(x))});
  if(!tp.firstChild)tp.appendChild(h('p',{cls:'mut'},'No topics (article categories) in this range.'));
  S.gp=g.gaps||[];S.gall=false;drawGaps()}
function dkey(r,c){return c.t?ttl(r).toLowerCase():r[c.k]}
function drawDefl(){
  var c=DC.filter(function(x){return x.c===S.dso})[0],m=.05,tr=$('dhd'),tb=$('drows'),rs=S.dr.slice();tr.textContent='';tb.textContent='';
  rs.forEach(function(r){var ci=r.contact_after_read_ci;if(ci)m=Math.max(m,ci[1])});
  m=[.05,.1,.2,.3,.5,.75,1].filter(function(v){return v>=m})[0]||1;
  DC.forEach(function(x){var on=x.c===S.dso;tr.appendChild(h('th',{cls:x.t?'':'n',scope:'col','aria-sort':on?(S.dor==='asc'?'ascending':'descending'):null,title:null},
    h('div',{cls:'thw'},h('button',{type:'button','data-dsort':x.c},x.c==='contact_rate'?x.l+' within '+S.dw:x.l,on?(S.dor==='asc'?'\u00a0▲':'\u00a0▼'):''),info(x.i,x.l))))});
  rs.sort(function(a,b){var x=dkey(a,c),y=dkey(b,c);if(x==null||y==null)return x==null?(y==null?0:1):-1;return(x<y?-1:x>y?1:0)*(S.dor==='asc'?1:-1)});
  (S.dall?rs:rs.slice(0,15)).forEach(function(r){
    var ci=r.contact_after_read_ci,v=r.contact_after_read,md=r.median_read_to_ticket_s,x=function(p){return 1+Math.min(1,p/m)*82};
    var bar=s('svg',{width:84,height:12,'class':'ivb','aria-hidden':'true'},s('rect',{x:0,y:4,width:84,height:4,rx:2,'class':'it'}),
      ci?s('rect',{x:x(ci[0]),y:2,width:Math.max(2,x(ci[1])-x(ci[0])),height:8,rx:2,'class':'b1'}):null,v!=null?s('rect',{x:x(v)-1,y:0,width:2.5,height:12,'class':'b3'}):null);
    tb.appendChild(h('tr',{'data-test':'deflection-row','data-id':r.id,'data-path':r.path,tabindex:'0'},
      h('td',{'data-col':'article',title:ttl(r)+'\n'+r.path},h('div',{},h('b',{},ttl(r))),h('div',{cls:'mut sm'},r.path)),
      h('td',{'data-col':'contact_rate',cls:'n','data-value':v,title:'At least '+pct(v)+' of views were followed by a ticket within '+S.dw+' · 95 % interval '+pr(ci)+' · '+N(r.followed_by_ticket)+' of '+N(r.views)+' views'},v==null?'—':'at least '+pct(v),bar),
      h('td',{'data-col':'views',cls:'n','data-value':r.views},N(r.views)),
      h('td',{'data-col':'tickets',cls:'n','data-value':r.followed_by_ticket},N(r.followed_by_ticket)),
      h('td',{'data-col':'median',cls:'n','data-value':md},dur(md==null?md:md*1e3))))});
  if(!rs.length)tb.appendChild(h('tr',{},h('td',{colspan:DC.length,cls:'mut'},'No article views in this range.')));
  $('dall').hidden=S.dall||rs.length<=15;$('dall').textContent='Show all '+rs.length+' articles';
  $('dnote').textContent=rs.length?'At least this share of the article’s views was followed by a linked ticket from the same reader within '+S.dw+'; bar: its 95 % interval on a 0–'+pct(m)+' scale.':''}
$('dhd').addEventListener('click',function(e){var b=e.target.closest('button[data-dsort]');if(!b)return;var k=b.getAttribute('data-dsort');
  if(S.dso===k)S.dor=S.dor==='asc'?'desc':'asc';else{S.dso=k;S.dor=k==='article'?'asc':'desc'}writeURL();drawDefl()});
$('dall').onclick=function(){S.dall=true;drawDefl()};
opener($('drows'));
function topic(x){
  var bg=x.best_lag_days,ls=x.lags||[],W=256,H=104,L=30,st=(W-L-4)/Math.max(1,ls.length),bw=st-3,z=52,y=function(r){return z-(r||0)*36},svg=null;
  if(ls.length){svg=s('svg',{width:W,height:H,role:'img','aria-label':'Correlation of reads with tickets 0 to 14 days later'+(bg!=null?'; strongest '+bg+' days later, r '+sr(x.r):'')});
    [1,.5,0,-.5,-1].forEach(function(v,i){svg.appendChild(s('line',{x1:L,x2:W-4,y1:y(v),y2:y(v),'class':v?'gl':'ax'}));
      svg.appendChild(s('text',{x:L-4,y:y(v)+4,'text-anchor':'end'},['+1','0.5','0','−0.5','−1'][i]))});
    ls.forEach(function(l,i){var b=l.lag===bg,cx=L+(i+.5)*st;
      svg.appendChild(s('rect',{x:cx-bw/2,y:Math.min(y(l.r),z),width:bw,height:Math.max(1,Math.abs(y(l.r)-z)),'class':b?'b3':'b1','data-lag':l.lag},s('title',{},l.lag+' days later: r '+sr(l.r)+', n '+N(l.n))));
      if(b){if(x.ci)svg.appendChild(s('line',{x1:cx,x2:cx,y1:y(x.ci[0]),y2:y(x.ci[1]),'class':'wk'}));
        svg.appendChild(s('text',{x:cx,y:11,'text-anchor':i>11?'end':i<2?'start':'middle','data-test':'best-lag'},'▼ '+l.lag+' d'))}
      if(l.lag%7===0)svg.appendChild(s('text',{x:cx,y:H-3,'text-anchor':'middle'},l.lag+(l.lag?' d':'')))})}
  return h('div',{cls:'tp','data-test':'topic','data-category':x.category,'data-lag':bg},
    h('div',{cls:'hd'},h('b',{},x.category||'(no category)'),h('span',{cls:'mut sm'},N(x.reads)+' reads · '+N(x.tickets)+' tickets')),svg,
    h('div',{cls:'vd '+(x.evidence?(x.r<0?'up':'dn'):'mut'),'data-test':'verdict'},x.verdict||'—'),
    bg!=null?h('div',{cls:'mut sm','data-test':'topic-r','data-value':x.r},'r '+sr(x.r)+' at '+bg+' d (95 %: '+(x.ci?sr(x.ci[0])+' to '+sr(x.ci[1]):'—')+'), n '+N(x.n)):null)}
function drawGaps(){var a=S.gp,b=$('gall');
  bl($('gps'),(S.gall?a:a.slice(0,10)).map(function(x){return{value:x.query,count:x.tickets,z:x.zero_results}}),function(x){return x.value||'(empty)'},
    function(x){return x.z?h('span',{cls:'tag',title:'This search found nothing'},'no results'):null},
    function(x){return{'data-test':'gap','data-query':x.value,'data-value':x.count,'data-zero':x.z?'1':null}});
  b.hidden=S.gall||a.length<=10;b.textContent='Show all '+a.length}
$('gall').onclick=function(){S.gall=true;drawGaps()};
[].forEach.call(document.querySelectorAll('[data-win]'),function(b){b.onclick=function(){S.win=b.getAttribute('data-win');writeURL();loadTickets()}});
$('tkf').addEventListener('submit',function(e){e.preventDefault();var id=$('tkid').value.trim(),ol=$('tkr');if(!id)return;ol.textContent='';ol.appendChild(h('li',{cls:'mut'},'Loading…'));
  api('tickets/'+encodeURIComponent(id)+'/reads',{window:S.win}).then(function(d){var rs=d.reads||[],w=WN[d.window]||d.window;ol.textContent='';
    ol.appendChild(h('li',{cls:'mut'},'Ticket '+d.ticket+(!d.linked?' is not linked to a reader.':rs.length?': read in the '+w+' before it':': its requester read nothing in the '+w+' before it.')));
    rs.forEach(function(r){ol.appendChild(h('li',{'data-test':'ticket-read','data-path':r.path},h('button',{type:'button',cls:'lnk',on:{click:function(){openDetail(r.id)}}},r.title||r.path),
      h('div',{cls:'mut sm'},r.path+' · '+dur(r.before_s*1000)+' before · '+String(r.time).replace('T',' ').replace('Z',' UTC'))))})})
  .catch(function(e){if(e===AUTH)return;ol.textContent='';ol.appendChild(h('li',{cls:'dn'},e.message||String(e)))})});

// ---- range controls
function marks(){[].forEach.call(document.querySelectorAll('[data-days],[data-win]'),function(b){var w=b.getAttribute('data-win');b.setAttribute('aria-pressed',String(w?w===S.win:+b.getAttribute('data-days')===S.days))})}
function loadAll(){$('msg').hidden=true;marks();var r=rng();if(!S.days){$('from').value=r.from;$('to').value=r.to}writeURL();
  loadSummary();loadArticles();loadTickets();if(S.art)openDetail(S.art)}
[].forEach.call(document.querySelectorAll('[data-days]'),function(b){b.onclick=function(){S.days=+b.getAttribute('data-days');S.from=S.to='';S.off=0;loadAll()}});
$('range').addEventListener('submit',function(e){e.preventDefault();var f=$('from').value,t=$('to').value;
  if(!f||!t||f>t){fail(new Error(!f||!t?'Pick both a start and an end date.':'The start date is after the end date.'));return}
  S.days=0;S.from=f;S.to=t;S.off=0;loadAll()});
$('bots').onchange=function(){S.bots=this.checked;loadAll()};
// a link with another #token=… opened in this tab changes only the fragment: no reload, so take it from here
addEventListener('hashchange',function(){var t=new URLSearchParams(location.hash.replace(/^#/,'')).get('token');if(!t)return;
  keepToken(t);$('auth').hidden=true;$('main').hidden=false;loadAll()});
$('auth').addEventListener('submit',function(e){e.preventDefault();var t=$('tok').value.trim();if(!t)return;keepToken(t);$('tok').value='';$('auth').hidden=true;$('main').hidden=false;loadAll()});
var lw=innerWidth,rt;addEventListener('resize',function(){clearTimeout(rt);rt=setTimeout(function(){if(innerWidth===lw)return;lw=innerWidth;
  if(S.sum)daily($('chart'),S.sum.series,false);if(S.det&&!$('detail').hidden){hist($('dhist'),S.det.histogram,S.det.article||{});daily($('dser'),S.det.series,true)}},150)});

$('site').textContent=SITE;document.title='dwell · '+SITE;
$('prefix').value=S.prefix;$('cat').value=S.cat;$('bots').checked=S.bots;header();
if(!S.token)askToken('This report needs an access token. Open it with #token=… at the end of the address or paste one here.');else loadAll();
})();
