module github.com/podpis/podpis

go 1.26
