public enum MultiformatsPlaceholder {}
