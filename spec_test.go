package instancehub_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/instancehub/instancehub"
)

// TestTagsOf: the form's rows and the file's map meet one rule; blank rows
// are skipped and a name given twice, in any case, is refused.
func TestTagsOf(t *testing.T) {
	tests := []struct {
		name string
		req  instancehub.CreateRequest
		want map[string]string
		err  string
	}{
		{"rows", instancehub.CreateRequest{TagRows: []instancehub.Tag{{Name: " team ", Value: "vision"}, {}, {Name: "cc", Value: ""}}},
			map[string]string{"team": "vision", "cc": ""}, ""},
		{"blank rows only", instancehub.CreateRequest{TagRows: []instancehub.Tag{{}, {Name: " "}}}, nil, ""},
		{"a row twice", instancehub.CreateRequest{TagRows: []instancehub.Tag{{Name: "team", Value: "a"}, {Name: "team ", Value: "b"}}}, nil, "given twice"},
		{"rows in two cases", instancehub.CreateRequest{TagRows: []instancehub.Tag{{Name: "team"}, {Name: "TEAM"}}}, nil, "Azure ignores the case"},
		{"a file's map in two cases", instancehub.CreateRequest{Tags: map[string]string{"Team": "a", "team": "b"}}, nil, "Azure ignores the case"},
		{"a file's map", instancehub.CreateRequest{Tags: map[string]string{"team": "a"}}, map[string]string{"team": "a"}, ""},
		{"a value without a name", instancehub.CreateRequest{TagRows: []instancehub.Tag{{Name: " ", Value: "v"}}}, nil, "needs a name"},
	}
	for _, tt := range tests {
		got, err := instancehub.TagsOf(tt.req)
		switch {
		case tt.err != "" && !strings.Contains(instancehub.ErrorFields(err)["tags"], tt.err):
			t.Errorf("%s: error %v, want %q on tags", tt.name, err, tt.err)
		case tt.err == "" && (err != nil || !maps.Equal(got, tt.want)):
			t.Errorf("%s: %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}
