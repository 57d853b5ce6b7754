// Package uiproto is what the agent and podpis-ui say to each other: one
// JSON message per line on podpis-ui's stdin and stdout. It imports no GUI
// code, so that the agent can speak it without linking the toolkit.
package uiproto
