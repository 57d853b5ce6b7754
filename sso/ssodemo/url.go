package ssodemo

import (
	"errors"
	"net/url"
)

func hostOf(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Hostname() == "" {
		return "", errors.New("ssodemo: the site's address is not an absolute URL")
	}
	return u.Hostname(), nil
}
