// Package webclient embeds podpis.js, its declarations and the demo login
// page, for the demo server to serve.
package webclient

import "embed"

// Files holds podpis.js, podpis.d.ts and demo/.
//
//go:embed podpis.js podpis.d.ts demo
var Files embed.FS
