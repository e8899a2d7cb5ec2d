//! Form and query parameters of OAuth requests: each may appear at most
//! once (RFC 6749 §3.1, §3.2), except `resource` (RFC 8707).

/// Decoded `application/x-www-form-urlencoded` parameters.
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses a query string or form body.
    pub fn parse(raw: &[u8]) -> Params {
        Params(form_urlencoded::parse(raw).into_owned().collect())
    }

    /// The value of a single-valued parameter; an empty value counts as
    /// absent (RFC 6749 §3.1). `Err` names a parameter sent twice.
    pub fn one(&self, name: &str) -> Result<Option<&str>, String> {
        let mut values = self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(format!("parameter {name} sent more than once"));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    /// Every value of a repeatable parameter.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(n, v)| n == name && !v.is_empty()).map(|(_, v)| v.as_str()).collect()
    }

    /// The first parameter other than `repeatable` sent more than once.
    pub fn repeated(&self, repeatable: &[&str]) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(i, (name, _))| {
            let again = self.0[i + 1..].iter().any(|(n, _)| n == name);
            (again && !repeatable.contains(&name.as_str())).then_some(name.as_str())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_repeated_parameters() {
        let params = Params::parse(b"a=1&resource=x&resource=y&b=&c=%E4%B8%AD+x&a=2");
        assert!(params.one("a").is_err());
        assert_eq!(params.one("b"), Ok(None));
        assert_eq!(params.one("c"), Ok(Some("中 x")));
        assert_eq!(params.all("resource"), ["x", "y"]);
        assert_eq!(params.repeated(&["resource"]), Some("a"));
        assert_eq!(Params::parse(b"resource=x&resource=y").repeated(&["resource"]), None);
    }
}
