// Package auth owns bearer-token verification for the pipeline's HTTPS
// endpoints: the set of issuer public keys (parsed from a JWKS document,
// RFC 7517), and a Verifier that checks an access token (a JWS-signed JWT)
// against that set, the expected issuer and audience, and the clock.
//
// The rules are those of RFC 8725 (JWT BCP) and RFC 9068 (access-token
// profile), applied with golang-jwt v5:
//
//   - the caller fixes the accepted algorithms; "none" and the HMAC family
//     are refused at construction, because a verifier that holds only public
//     keys must never treat one as an HMAC secret (key confusion);
//   - each key verifies exactly one algorithm, pinned when the JWKS is parsed
//     (from its "alg", or from its type and curve), and a token's "alg" must
//     equal the pin of the key its "kid" names;
//   - keys are chosen by "kid" from the configured set only; "jku", "x5u",
//     "jwk" and "x5c" headers are never followed;
//   - "exp", "iss" and "aud" are required, "iat" in the future and "nbf" are
//     checked, all within a configurable leeway;
//   - "typ", when present, must say JWT or at+jwt, and a "crit" header is
//     refused because no extension is understood.
//
// The package is pure: it does no logging, holds no connections and reads
// files or URLs only through KeySource, which the caller creates. Errors are
// API: every failure wraps one of the package sentinels, matched with
// errors.Is; no error text ever contains the token.
package auth
