/* Two calls podpis makes that Wine 8.0's crypt32 answers differently from
   Windows, reduced to CryptoAPI alone (no Go, no podpis): limits_test.go
   runs them to show the limit and that podpis's way round it works.

   crypt32 rootdel CERT.der
     Adds the certificate to the current user's Root system store, deletes
     it through that store (CERT_STORE_PROV_SYSTEM), reopens and looks;
     then deletes it through the registry physical store
     (CERT_STORE_PROV_SYSTEM_REGISTRY), reopens and looks. Prints
     "system: gone|still there" and "registry: gone|still there".

   crypt32 pfxkeyspec FILE.pfx PASSWORD
     PFXImportCertStore; prints the KeySpec the import recorded in the
     certificate's CERT_KEY_PROV_INFO ("keyspec N"), then signs a SHA-256
     hash with that spec and with AT_KEYEXCHANGE ("sign N: ok|0x…"),
     through the AES provider on the imported key's container (the
     provider the import names, PROV_RSA_FULL, knows no SHA-256, as on
     Windows). The password is taken from the wide command line. */
#include <windows.h>
#include <wincrypt.h>
#include <shellapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static HCERTSTORE open_root(LPCSTR provider) {
	return CertOpenStore(provider, 0, 0, CERT_SYSTEM_STORE_CURRENT_USER, L"Root");
}

static PCCERT_CONTEXT find(HCERTSTORE st, PCCERT_CONTEXT like) {
	return CertFindCertificateInStore(st, X509_ASN_ENCODING, 0, CERT_FIND_EXISTING, like, NULL);
}

static BYTE *readfile(const char *path, DWORD *n) {
	FILE *f = fopen(path, "rb");
	if (!f) return NULL;
	BYTE *b = malloc(1 << 20);
	*n = (DWORD)fread(b, 1, 1 << 20, f);
	fclose(f);
	return b;
}

static int delete_through(LPCSTR provider, PCCERT_CONTEXT cert, const char *label) {
	HCERTSTORE st = open_root(provider);
	PCCERT_CONTEXT c = find(st, cert);
	if (!c) { printf("%s: not found before deleting\n", label); return 2; }
	if (!CertDeleteCertificateFromStore(c)) { printf("%s: delete failed 0x%08lx\n", label, GetLastError()); return 2; }
	CertCloseStore(st, 0);
	st = open_root(CERT_STORE_PROV_SYSTEM_W);
	c = find(st, cert);
	printf("%s: %s\n", label, c ? "still there" : "gone");
	if (c) CertFreeCertificateContext(c);
	CertCloseStore(st, 0);
	return 0;
}

static int rootdel(const char *path) {
	DWORD n;
	BYTE *der = readfile(path, &n);
	PCCERT_CONTEXT cert = der ? CertCreateCertificateContext(X509_ASN_ENCODING, der, n) : NULL;
	if (!cert) { printf("no certificate\n"); return 2; }
	HCERTSTORE st = open_root(CERT_STORE_PROV_SYSTEM_W);
	if (!CertAddCertificateContextToStore(st, cert, CERT_STORE_ADD_REPLACE_EXISTING, NULL)) {
		printf("add failed 0x%08lx\n", GetLastError());
		return 2;
	}
	CertCloseStore(st, 0);
	int rc = delete_through(CERT_STORE_PROV_SYSTEM_W, cert, "system");
	if (rc) return rc;
	st = open_root(CERT_STORE_PROV_SYSTEM_W);
	PCCERT_CONTEXT c = find(st, cert);
	CertCloseStore(st, 0);
	if (!c) { printf("registry: gone\n"); return 0; } /* the first delete worked */
	CertFreeCertificateContext(c);
	return delete_through(CERT_STORE_PROV_SYSTEM_REGISTRY_W, cert, "registry");
}

static void sign(HCRYPTPROV prov, DWORD spec) {
	HCRYPTHASH h;
	BYTE digest[32] = {1, 2, 3}, sig[1024];
	DWORD n = sizeof sig;
	if (!CryptCreateHash(prov, CALG_SHA_256, 0, 0, &h)) { printf("sign %lu: hash 0x%08lx\n", spec, GetLastError()); return; }
	CryptSetHashParam(h, HP_HASHVAL, digest, 0);
	if (CryptSignHashW(h, spec, NULL, 0, sig, &n)) printf("sign %lu: ok\n", spec);
	else printf("sign %lu: 0x%08lx\n", spec, GetLastError());
	CryptDestroyHash(h);
}

static int pfxkeyspec(const char *path) {
	DWORD n;
	BYTE *b = readfile(path, &n);
	int argc;
	WCHAR **wargv = CommandLineToArgvW(GetCommandLineW(), &argc);
	const WCHAR *pw = wargv[3];
	CRYPT_DATA_BLOB blob = {n, b};
	HCERTSTORE st = b ? PFXImportCertStore(&blob, pw, CRYPT_USER_KEYSET) : NULL;
	if (!st) { printf("PFXImportCertStore 0x%08lx\n", GetLastError()); return 2; }
	PCCERT_CONTEXT c = CertEnumCertificatesInStore(st, NULL);
	DWORD size = 0;
	CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, NULL, &size);
	CRYPT_KEY_PROV_INFO *info = malloc(size);
	if (!c || !CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, info, &size)) {
		printf("no CERT_KEY_PROV_INFO\n");
		return 2;
	}
	printf("keyspec %lu\n", info->dwKeySpec);
	HCRYPTPROV prov;
	if (!CryptAcquireContextW(&prov, info->pwszContainerName, NULL, PROV_RSA_AES, 0)) {
		printf("CryptAcquireContext 0x%08lx\n", GetLastError());
		return 2;
	}
	sign(prov, info->dwKeySpec);
	sign(prov, AT_KEYEXCHANGE);
	return 0;
}

int main(int argc, char **argv) {
	if (argc == 3 && !strcmp(argv[1], "rootdel")) return rootdel(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "pfxkeyspec")) return pfxkeyspec(argv[2]);
	fprintf(stderr, "usage: crypt32 rootdel CERT.der | pfxkeyspec FILE.pfx PASSWORD\n");
	return 2;
}
