// The page's Content-Security-Policy runs no inline script: the values come in data attributes.
const page = document.getElementById("oauth-demo").dataset;
const clientId = page.clientId;
const redirectUri = page.redirectUri;
const statusLine = document.getElementById("status");

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function start() {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(48)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem("pkce_verifier", verifier);
  sessionStorage.setItem("pkce_state", state);
  const query = new URLSearchParams({
    response_type: "code", client_id: clientId, redirect_uri: redirectUri, scope: "read write",
    state: state, code_challenge: challenge, code_challenge_method: "S256",
  });
  window.location.assign("/o/authorize/?" + query.toString());
}

async function finish(params) {
  if (params.get("error")) {
    statusLine.textContent = "Not approved: " + params.get("error");
    return;
  }
  if (params.get("state") !== sessionStorage.getItem("pkce_state")) {
    statusLine.textContent = "The answer does not belong to this page (state mismatch).";
    return;
  }
  statusLine.textContent = "Trading the code for a token...";
  const response = await fetch("/o/token/", {
    method: "POST",
    headers: {"Content-Type": "application/x-www-form-urlencoded"},
    body: new URLSearchParams({
      grant_type: "authorization_code", code: params.get("code"), redirect_uri: redirectUri,
      client_id: clientId, code_verifier: sessionStorage.getItem("pkce_verifier"),
    }),
  });
  const answer = await response.json();
  sessionStorage.removeItem("pkce_verifier");
  sessionStorage.removeItem("pkce_state");
  history.replaceState(null, "", redirectUri);
  if (!response.ok) {
    statusLine.textContent = "The token endpoint refused: " + (answer.error || response.status);
    return;
  }
  statusLine.textContent = "Your token (expires in " + answer.expires_in + " s):";
  const out = document.getElementById("token");
  out.textContent = answer.access_token;
  out.hidden = false;
}

document.getElementById("start").addEventListener("click", start);
const params = new URLSearchParams(window.location.search);
if (params.has("code") || params.has("error")) { finish(params); }
