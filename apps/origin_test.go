package apps

import "testing"

func TestOrigins(t *testing.T) {
	o, err := newOrigins("https", "Apps.Example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got := o.host("Adas-Box", "jupyter"); got != "adas-box--jupyter.apps.example.com" {
		t.Errorf("host = %q", got)
	}
	tests := []struct {
		host, name, slug string
	}{
		{"adas-box--jupyter.apps.example.com", "adas-box", "jupyter"},
		{"ADAS-BOX--JupyterLab.APPS.example.com:8443", "adas-box", "jupyterlab"},
		{"a--b--rstudio.apps.example.com", "a--b", "rstudio"},
		{"adas-box--jupyter.apps.example.com.", "", ""},
		{"adas-box--jupyter.apps.example.com:", "", ""},
		{"adas-box--jupyter.apps.example.com:123456", "", ""},
		{"adas-box--jupyter.apps.example.org", "", ""},
		{"adas-box--jupyter.xapps.example.com", "", ""},
		{"adas-box--jupyter.evil.apps.example.com", "", ""},
		{"adas-box--.apps.example.com", "", ""},
		{"--jupyter.apps.example.com", "", ""},
		{"ab--jupyter.apps.example.com", "", ""},
		{"adas_box--jupyter.apps.example.com", "", ""},
		{"adas-box--jupyter", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		name, slug, ok := o.parse(tt.host)
		if ok != (tt.name != "") || name != tt.name || slug != tt.slug {
			t.Errorf("parse(%q) = %q, %q, %v; want %q, %q", tt.host, name, slug, ok, tt.name, tt.slug)
		}
	}
	if _, err := newOrigins("ftp", "apps.example.com"); err == nil {
		t.Error("scheme ftp accepted")
	}
	for _, bad := range []string{"", ".apps.example.com", "apps.example.com:x"} {
		if _, err := newOrigins("http", bad); err == nil {
			t.Errorf("domain %q accepted", bad)
		}
	}
}
