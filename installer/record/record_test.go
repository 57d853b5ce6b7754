package record

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestRecord(t *testing.T) {
	type rec struct{ Files []string }
	path := filepath.Join(t.TempDir(), "r.json")
	var r rec
	if err := Load(path, &r); err != nil || r.Files != nil {
		t.Fatalf("missing record: %v %v", r, err)
	}
	if err := Save(path, rec{Files: []string{"a", "b"}}, false); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("saved: %v %v", fi, err)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("temporary file left: %v", err)
	}
	var back rec
	if err := Load(path, &back); err != nil || !reflect.DeepEqual(back, rec{Files: []string{"a", "b"}}) {
		t.Fatalf("loaded %v %v", back, err)
	}
	if err := Save(path, rec{}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("an empty record stays: %v", err)
	}
	if err := Save(path, rec{}, true); err != nil {
		t.Fatalf("removing twice: %v", err)
	}
	os.WriteFile(path, []byte("{"), 0o600)
	if err := Load(path, &back); err == nil {
		t.Fatal("a damaged record loaded")
	}
}
