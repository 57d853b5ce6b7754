package sqlstore

import "io/fs"

// mustSub is the migrations folder as goose reads it: files at its root.
func mustSub() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded folder is there: go:embed checks it
	}
	return sub
}
