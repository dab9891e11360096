// The only script of the web pages, served at /assets/app.js (CSP: script-src 'self'). Progressive
// enhancement: adds "Copy" buttons to code snippets. Every page works without it.
export const APP_JS = `(function(){
  if(!navigator.clipboard)return;
  document.querySelectorAll("pre[data-copy]").forEach(function(pre){
    var b=document.createElement("button");b.type="button";b.className="secondary";b.textContent="Copy";
    b.setAttribute("aria-label","Copy "+(pre.getAttribute("data-copy")||"snippet"));
    b.addEventListener("click",function(){navigator.clipboard.writeText(pre.innerText).then(function(){
      b.textContent="Copied";setTimeout(function(){b.textContent="Copy"},1500)})});
    pre.parentNode.insertBefore(b,pre);
  });
})();`;

export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#0b5fd6"/>' +
  '<text x="16" y="22" font-family="sans-serif" font-size="15" font-weight="700" fill="#fff" ' +
  'text-anchor="middle">402</text></svg>';
