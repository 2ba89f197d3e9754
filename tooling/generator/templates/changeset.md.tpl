---
"@plumbline/__name__": minor
---

Add the __Title__ connector.
