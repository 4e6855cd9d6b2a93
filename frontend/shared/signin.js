// The sign-in conversation of POST /api/auth/login (docs/protocol.md, HTTP authentication):
// the password first, then what the server still asks for — the authenticator's code of an
// account with TOTP (409 mfa_required), or a TOTP setup (409 mfa_setup_required: admins and
// supervisors must have one; anyone may ask with setupMfa) finished by POST /api/auth/mfa/setup.
// The page supplies `post(path, body)` (rejects with the API's error: status, code, data) and
// `askCode(step)`: step.kind is "mfa" or "setup" (with step.setup = {secretCode, otpauthUri}) and
// step.retry says the last code was refused; it resolves with the 6-digit code the person typed.

export async function signInWithSteps(post, { username, password, setupMfa = false }, askCode) {
  const body = { username, password };
  if (setupMfa) body.setupMfa = true;
  let retry = false;
  for (;;) {
    try {
      return await post("/api/auth/login", body);
    } catch (err) {
      if (err.code === "mfa_required" || (err.code === "invalid_mfa_code" && body.totpCode)) {
        body.totpCode = await askCode({ kind: "mfa", retry: retry || err.code === "invalid_mfa_code" });
        retry = true;
        continue;
      }
      if (err.code === "mfa_setup_required") return finishSetup(post, err.data, askCode);
      throw err;
    }
  }
}

async function finishSetup(post, setup, askCode) {
  let retry = false;
  for (;;) {
    const totpCode = await askCode({ kind: "setup", setup, retry });
    try {
      return await post("/api/auth/mfa/setup", { setupSession: setup.setupSession, totpCode });
    } catch (err) {
      if (err.code !== "invalid_mfa_code") throw err;
      retry = true;
    }
  }
}
