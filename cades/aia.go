package cades

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxIssuerFetches bounds the certificates fetched for one chain: a
// qualified certificate's path is three or four long.
const maxIssuerFetches = 4

// fetchIssuers completes pool with the issuers of cert's path that it
// lacks, from each certificate's Authority Information Access caIssuers
// (http and https only; DER or PEM certificates), as CryptoPro does for
// X Long: the agent holds the signer's certificate, rarely its CAs.
func fetchIssuers(ctx context.Context, client *http.Client, cert *x509.Certificate, pool []*x509.Certificate) []*x509.Certificate {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	top := cert
	for range maxIssuerFetches {
		if bytes.Equal(top.RawIssuer, top.RawSubject) {
			return pool
		}
		var issuer *x509.Certificate
		for _, c := range pool {
			if bytes.Equal(c.RawSubject, top.RawIssuer) {
				issuer = c
				break
			}
		}
		for _, url := range top.IssuingCertificateURL {
			if issuer != nil {
				break
			}
			if c, err := fetchCert(ctx, client, url); err == nil && bytes.Equal(c.RawSubject, top.RawIssuer) {
				issuer = c
				pool = append(pool, c)
			}
		}
		if issuer == nil {
			return pool
		}
		top = issuer
	}
	return pool
}

func fetchCert(ctx context.Context, client *http.Client, url string) (*x509.Certificate, error) {
	if !(len(url) > 7 && (url[:7] == "http://" || len(url) > 8 && url[:8] == "https://")) {
		return nil, fmt.Errorf("cades: %s: only http and https issuers are fetched", url)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("cades: %s: HTTP %d", url, resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, err
	}
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	return x509.ParseCertificate(b)
}
