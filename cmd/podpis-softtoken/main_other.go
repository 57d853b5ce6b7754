//go:build !unix

// podpis-softtoken is built for Unix systems only: on Windows, people's
// keys live in real CSPs.
package main

func main() {}
