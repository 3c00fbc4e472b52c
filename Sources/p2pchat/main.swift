print("p2pchat")
