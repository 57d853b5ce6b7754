// Package harden shuts the agent's process and data folder to everyone but
// the person running it: the folder that holds the local CA, the TLS key,
// the lock and the log is theirs alone (Dir), and on Linux the process
// cannot be dumped or traced by other processes of the same account, so a
// PIN or a key in its memory does not end up in a core file (Process).
package harden

import "errors"

// ErrForeignOwner reports a data folder that belongs to another account:
// whoever owns it could read or replace the agent's TLS key and CA.
var ErrForeignOwner = errors.New("harden: the folder belongs to another account")
