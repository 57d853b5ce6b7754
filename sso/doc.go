// Package sso is the home of the outside ways into an account: each
// subpackage verifies one identity provider's answer and returns who the
// person is there (an external ID and a few claims); linking that ID to an
// account is the account service's business, not theirs.
//
//   - sso/telegram: the Telegram Login Widget's signed data.
//   - sso/esia: Госуслуги (ESIA) OAuth 2.0 / OpenID Connect, with the
//     client_secret signed by podpis's own CMS code.
//   - sso/replay: the single-use memory both need (a widget hash, a state),
//     in memory or, through sso/replay/redisreplay, in Redis.
package sso
