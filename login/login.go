// Package login is the contract between the podpis agent and a login
// server (package verify): what a login means. It holds the login
// document the agent signs (Document, its canonical JSON, the CMS content
// type OID, and IsDocument, which spots one in any spelling so that it is
// never signed as a document), who signed (Identity, read from a
// certificate by IdentityOf, which the agent also shows for each
// certificate), and which site a login is for (NormalizeOrigin, the one
// rule by which the agent names the site it signs for and verify the site
// it accepts, so "https://LK.example.ru:443" is "https://lk.example.ru" on
// both sides).
//
// Both sides import it and nothing else of each other: the agent carries no
// server code, the server no agent code, and neither can drift from the
// other. It imports nothing of podpis.
package login
