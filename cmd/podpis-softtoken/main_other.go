//go:build !unix && !windows

// podpis-softtoken is built for Unix and Windows, where the tests load it
// (Windows: under Wine, as a Rutoken or JaCarta module would be).
package main

func main() {}
