// Put in place of four packages got imports for features ms-async never turns on (scripts/bundle.mjs):
// HTTP/2 (http2-wrapper), the HTTP cache (cacheable-request, with keyv and http-cache-semantics),
// the DNS cache (cacheable-lookup) and form bodies (form-data-encoder). Loading them took ~30 ms
// of every run's start (half of got's 360 KB, and Node's own http2 module). Each stand-in fails
// loudly if got ever reaches it: that would mean the client turned one of those options on.
const leftOut = (what) => () => {
  throw new Error(`ms-async's bundle leaves out got's ${what} (scripts/bundle/got-left-out.js)`);
};

// http2-wrapper: got reads `auto` and `globalAgent` only with `http2: true`.
export const http2Wrapper = { auto: leftOut('HTTP/2'), globalAgent: undefined };

// cacheable-request: constructed only with the `cache` option.
export class CacheableRequest {
  constructor() {
    leftOut('HTTP cache')();
  }
}
export class CacheError extends Error {}

// cacheable-lookup: constructed only with the `dnsCache` option.
export class CacheableLookup {
  constructor() {
    leftOut('DNS cache')();
  }
}

// form-data-encoder: nothing we send is a FormData.
export const isFormData = () => false;
export class FormDataEncoder {
  constructor() {
    leftOut('form bodies')();
  }
}
